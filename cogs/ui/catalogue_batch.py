"""Translations of a batch's message (cogs/ui/batch_texts.py), in the order of catalogue.LOCALES."""

from __future__ import annotations

from cogs.ui import batch_texts as b

BATCH: dict[str, tuple[str, str, str, str, str]] = {
    b.MAKING: (
        "⏳ {count} Bilder werden erstellt…", "⏳ Création de {count} images…", "⏳ Creando {count} imágenes…",
        "⏳ Criando {count} imagens…", "⏳ {count}枚の画像を作成中…",
    ),
    b.IMAGE_DONE: ("✅ Fertig", "✅ Prête", "✅ Lista", "✅ Pronta", "✅ 完成"),
    b.PART_FAILED: (
        "❌ Fehlgeschlagen: seine Credits wurden erstattet", "❌ Échec : ses crédits ont été remboursés",
        "❌ Falló: sus créditos se reembolsaron", "❌ Falhou: seus créditos foram reembolsados",
        "❌ 失敗: クレジットは返金されました",
    ),
    b.PART_CANCELLED: (
        "🛑 Abgebrochen: seine Credits sind wieder frei", "🛑 Annulée : ses crédits sont de nouveau libres",
        "🛑 Cancelada: sus créditos vuelven a estar libres", "🛑 Cancelada: seus créditos estão livres de novo",
        "🛑 キャンセル: クレジットは戻りました",
    ),
    b.IMAGE_FAILED: (
        "Bild {number} ist fehlgeschlagen, seine {price} Credits wurden erstattet: {reason}",
        "L'image {number} a échoué et ses {price} crédits ont été remboursés : {reason}",
        "La imagen {number} falló y sus {price} créditos se reembolsaron: {reason}",
        "A imagem {number} falhou e seus {price} créditos foram reembolsados: {reason}",
        "画像{number}は失敗し、{price}クレジットが返金されました: {reason}",
    ),
    b.IMAGE_CANCELLED: (
        "Bild {number} wurde abgebrochen: seine {price} Credits sind wieder frei.",
        "L'image {number} a été annulée : ses {price} crédits sont de nouveau libres.",
        "La imagen {number} se canceló: sus {price} créditos vuelven a estar libres.",
        "A imagem {number} foi cancelada: seus {price} créditos estão livres de novo.",
        "画像{number}はキャンセルされました: {price}クレジットは戻りました。",
    ),
    b.NOT_STARTED: (
        "Bilder {first} bis {last} wurden nicht gestartet, dafür wurde nichts berechnet: {reason}",
        "Les images {first} à {last} n'ont pas été lancées, rien n'a été facturé : {reason}",
        "Las imágenes {first} a {last} no se iniciaron, no se cobró nada por ellas: {reason}",
        "As imagens {first} a {last} não foram iniciadas, nada foi cobrado por elas: {reason}",
        "画像{first}〜{last}は開始されず、料金はかかっていません: {reason}",
    ),
    b.ONE_NOT_STARTED: (
        "Bild {number} wurde nicht gestartet, dafür wurde nichts berechnet: {reason}",
        "L'image {number} n'a pas été lancée, rien n'a été facturé : {reason}",
        "La imagen {number} no se inició, no se cobró nada por ella: {reason}",
        "A imagem {number} não foi iniciada, nada foi cobrado por ela: {reason}",
        "画像{number}は開始されず、料金はかかっていません: {reason}",
    ),
    b.SEEDS: ("Seeds", "Graines", "Semillas", "Sementes", "シード"),
    b.COST: ("Kosten", "Coût", "Coste", "Custo", "費用"),
    b.COST_VALUE: ("{credits} Credits", "{credits} crédits", "{credits} créditos", "{credits} créditos", "{credits}クレジット"),
    b.BALANCE_AFTER: ("Guthaben danach", "Solde après", "Saldo después", "Saldo depois", "残高"),
    b.REQUESTED_BY: ("Angefordert von", "Demandé par", "Pedido por", "Pedido por", "リクエスト"),
    b.NOT_MADE: ("Nicht erstellt", "Non créées", "No creadas", "Não criadas", "未作成"),
    b.SEED: ("Seed", "Graine", "Semilla", "Semente", "シード"),
    b.SIZE: ("Größe", "Taille", "Tamaño", "Tamanho", "サイズ"),
    b.TIME: ("Dauer", "Durée", "Tiempo", "Tempo", "所要時間"),
    b.REFERENCES: ("Referenzen", "Références", "Referencias", "Referências", "参照画像"),
    b.RANDOM: ("zufällig", "aléatoire", "aleatoria", "aleatória", "ランダム"),
    b.UNKNOWN: ("unbekannt", "inconnue", "desconocido", "desconhecido", "不明"),
}
