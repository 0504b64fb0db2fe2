"""Translations of the credits replies (cogs/ui/messages.py's templates), of /credits-admin's,
/settings', /queue's, /mine's, Info's and the result buttons' words and of /config's confirmations
(cogs/ui/reply_texts.py), in catalogue.LOCALES' order."""

from __future__ import annotations

from cogs.ui import messages as m
from cogs.ui import reply_texts as r

REPLIES2: dict[str, tuple[str, str, str, str, str]] = {
    # --- /credits balance, grant, refund, allowance, settings (cogs/ui/messages.py) ----------------
    m.BALANCE: (
        "**Guthaben des Servers:** {balance} Credits", "**Solde du serveur :** {balance} crédits",
        "**Saldo del servidor:** {balance} créditos", "**Saldo do servidor:** {balance} créditos",
        "**サーバーの残高:** {balance}クレジット",
    ),
    m.BALANCE_HELD: (
        "**Guthaben des Servers:** {balance} Credits ({reserved} für laufende Aufträge zurückgehalten)",
        "**Solde du serveur :** {balance} crédits ({reserved} réservés pour les tâches en cours)",
        "**Saldo del servidor:** {balance} créditos ({reserved} reservados para trabajos en curso)",
        "**Saldo do servidor:** {balance} créditos ({reserved} reservados para tarefas em andamento)",
        "**サーバーの残高:** {balance}クレジット(実行中のジョブに{reserved}を確保中)",
    ),
    m.SPENT_TODAY: (
        "**Heute ausgegeben:** {credits} Credits", "**Dépensé aujourd'hui :** {credits} crédits",
        "**Gastado hoy:** {credits} créditos", "**Gasto hoje:** {credits} créditos",
        "**今日使った分:** {credits}クレジット",
    ),
    m.ALLOWANCE_LEFT["today"]: (
        "**Dein Kontingent heute:** {left} von {limit} Credits übrig",
        "**Votre quota aujourd'hui :** {left} sur {limit} crédits restants",
        "**Tu cupo hoy:** quedan {left} de {limit} créditos",
        "**Sua cota hoje:** restam {left} de {limit} créditos",
        "**今日の利用枠:** {limit}クレジット中、残り{left}",
    ),
    m.ALLOWANCE_LEFT["month"]: (
        "**Dein Kontingent diesen Monat:** {left} von {limit} Credits übrig",
        "**Votre quota ce mois-ci :** {left} sur {limit} crédits restants",
        "**Tu cupo este mes:** quedan {left} de {limit} créditos",
        "**Sua cota este mês:** restam {left} de {limit} créditos",
        "**今月の利用枠:** {limit}クレジット中、残り{left}",
    ),
    m.PRICES: ("**Preise:** {prices}", "**Prix :** {prices}", "**Precios:** {prices}", "**Preços:** {prices}", "**料金:** {prices}"),
    m.PRICE_FROM: (
        "{name} ab {price}", "{name} à partir de {price}", "{name} desde {price}", "{name} a partir de {price}",
        "{name} {price}から",
    ),
    m.GRANTED: (
        "{amount} Credits hinzugefügt. Das Guthaben des Servers beträgt jetzt {balance}.",
        "{amount} crédits ajoutés. Le solde du serveur est maintenant de {balance}.",
        "Se añadieron {amount} créditos. El saldo del servidor es ahora {balance}.",
        "{amount} créditos adicionados. O saldo do servidor agora é {balance}.",
        "{amount}クレジットを追加しました。サーバーの残高は{balance}になりました。",
    ),
    m.REFUNDED: (
        "Auftrag {job_id} erstattet. Das Guthaben des Servers beträgt jetzt {balance}.",
        "Tâche {job_id} remboursée. Le solde du serveur est maintenant de {balance}.",
        "Trabajo {job_id} reembolsado. El saldo del servidor es ahora {balance}.",
        "Tarefa {job_id} reembolsada. O saldo do servidor agora é {balance}.",
        "ジョブ{job_id}を返金しました。サーバーの残高は{balance}になりました。",
    ),
    m.EXEMPT: (
        "{who} ist von Rollen-Kontingenten ausgenommen.", "{who} est exempté des quotas de rôle.",
        "{who} está exento de los cupos por rol.", "{who} está isento das cotas por cargo.",
        "{who}はロールの利用枠の対象外です。",
    ),
    m.ALLOWANCE_FOR: (
        "Kontingent für {who}: {daily}, {monthly}.", "Quota de {who} : {daily}, {monthly}.",
        "Cupo de {who}: {daily}, {monthly}.", "Cota de {who}: {daily}, {monthly}.", "{who}の利用枠: {daily}、{monthly}。",
    ),
    m.PER_DAY: ("{count} pro Tag", "{count} par jour", "{count} por día", "{count} por dia", "1日{count}"),
    m.NO_DAILY_LIMIT: (
        "kein Tageslimit", "pas de limite par jour", "sin límite diario", "sem limite diário", "1日の上限なし",
    ),
    m.PER_MONTH: ("{count} pro Monat", "{count} par mois", "{count} por mes", "{count} por mês", "月{count}"),
    m.NO_MONTHLY_LIMIT: (
        "kein Monatslimit", "pas de limite par mois", "sin límite mensual", "sem limite mensal", "月の上限なし",
    ),
    m.CREDIT_SETTINGS: (
        "Bestätigung erfragen: {quote}. Warnung bei niedrigem Guthaben: {alert}.",
        "Demander confirmation : {quote}. Alerte de solde bas : {alert}.",
        "Pedir confirmación: {quote}. Aviso de saldo bajo: {alert}.",
        "Pedir confirmação: {quote}. Alerta de saldo baixo: {alert}.",
        "確認を求める: {quote}。残高不足の通知: {alert}。",
    ),
    m.EVERY_JOB: ("bei jedem Auftrag", "pour chaque tâche", "en cada trabajo", "em toda tarefa", "すべてのジョブ"),
    m.JOBS_OVER: (
        "bei Aufträgen über {credits} Credits", "pour les tâches de plus de {credits} crédits",
        "en trabajos de más de {credits} créditos", "em tarefas acima de {credits} créditos",
        "{credits}クレジットを超えるジョブ",
    ),
    m.NEVER: ("nie", "jamais", "nunca", "nunca", "なし"),
    m.ALERT_BELOW: (
        "unter {credits} Credits", "sous {credits} crédits", "por debajo de {credits} créditos",
        "abaixo de {credits} créditos", "{credits}クレジット未満",
    ),
    # --- what the context menu left out of an edit (cogs/ui/messages.py) ------------------------------
    m.LEFT_OUT_ONE: (
        "{total} Anhang der Nachricht wurde weggelassen: {reasons}.", "{total} pièce jointe du message a été ignorée : {reasons}.",
        "Se omitió {total} adjunto del mensaje: {reasons}.", "{total} anexo da mensagem foi deixado de fora: {reasons}.",
        "メッセージの添付ファイルのうち{total}件を除外しました: {reasons}。",
    ),
    m.LEFT_OUT: (
        "{total} Anhänge der Nachricht wurden weggelassen: {reasons}.",
        "{total} pièces jointes du message ont été ignorées : {reasons}.",
        "Se omitieron {total} adjuntos del mensaje: {reasons}.", "{total} anexos da mensagem foram deixados de fora: {reasons}.",
        "メッセージの添付ファイルのうち{total}件を除外しました: {reasons}。",
    ),
    m.NOT_AN_IMAGE: (
        "{count} ist kein PNG-, JPEG- oder WebP-Bild", "{count} n'est pas une image PNG, JPEG ou WebP",
        "{count} no es una imagen PNG, JPEG o WebP", "{count} não é uma imagem PNG, JPEG ou WebP",
        "{count}件はPNG、JPEG、WebPの画像ではありません",
    ),
    m.NOT_IMAGES: (
        "{count} sind keine PNG-, JPEG- oder WebP-Bilder", "{count} ne sont pas des images PNG, JPEG ou WebP",
        "{count} no son imágenes PNG, JPEG o WebP", "{count} não são imagens PNG, JPEG ou WebP",
        "{count}件はPNG、JPEG、WebPの画像ではありません",
    ),
    m.BEYOND_LIMIT: (
        "{count} nach den ersten {limit}, da {model} höchstens {limit} Referenzbilder nimmt",
        "{count} au-delà des {limit} premières, car {model} prend au plus {limit} images de référence",
        "{count} más allá de las primeras {limit}, porque {model} usa como máximo {limit} imágenes de referencia",
        "{count} além das primeiras {limit}, pois o {model} usa no máximo {limit} imagens de referência",
        "最初の{limit}件より後の{count}件({model}の参照画像は最大{limit}枚)",
    ),
    # --- /credits-admin -------------------------------------------------------------------------
    r.ALLOWANCE_REMOVED: (
        "Kontingent entfernt.", "Quota supprimé.", "Cupo eliminado.", "Cota removida.", "利用枠を削除しました。",
    ),
    r.NO_SUCH_ALLOWANCE: (
        "Dieses Kontingent gab es nicht.", "Ce quota n'existait pas.", "No había tal cupo.", "Essa cota não existia.",
        "そのような利用枠はありませんでした。",
    ),
    r.HISTORY_TITLE: ("Credit-Verlauf", "Historique des crédits", "Historial de créditos", "Histórico de créditos", "クレジット履歴"),
    r.NO_MOVEMENTS: (
        "Keine passenden Credit-Bewegungen.", "Aucun mouvement de crédits ne correspond.",
        "Ningún movimiento de créditos coincide.", "Nenhum movimento de créditos corresponde.",
        "該当するクレジットの動きはありません。",
    ),
    r.NEWER: ("◀ Neuer", "◀ Plus récent", "◀ Más reciente", "◀ Mais recente", "◀ 新しい"),
    r.OLDER: ("Älter ▶", "Plus ancien ▶", "Más antiguo ▶", "Mais antigo ▶", "古い ▶"),
    r.EXPORT_TOO_BIG: (
        "Der Export ist komprimiert {size} MiB groß, über dem Upload-Limit dieses Servers von {limit} MiB: exportiere"
        " einen kürzeren Zeitraum mit `since` und `until`.",
        "L'export fait {size} Mio compressé, au-delà de la limite d'envoi de {limit} Mio de ce serveur : exportez une"
        " période plus courte avec `since` et `until`.",
        "La exportación ocupa {size} MiB comprimida, más que el límite de subida de {limit} MiB de este servidor:"
        " exporta un periodo más corto con `since` y `until`.",
        "A exportação tem {size} MiB compactada, acima do limite de envio de {limit} MiB deste servidor: exporte um"
        " período menor com `since` e `until`.",
        "エクスポートは圧縮後{size} MiBで、このサーバーのアップロード上限{limit} MiBを超えています。`since`と`until`で"
        "期間を短くしてください。",
    ),
    r.EXPORT_COUNT: (
        "{count} Buchungen.", "{count} écritures.", "{count} movimientos.", "{count} lançamentos.", "{count}件の記録。",
    ),
    r.EXPORT_FILE: (
        "Das Credit-Journal dieses Servers als gzip-CSV, älteste zuerst",
        "Le journal des crédits de ce serveur en CSV gzip, du plus ancien au plus récent",
        "El registro de créditos de este servidor en CSV gzip, del más antiguo al más reciente",
        "O registro de créditos deste servidor em CSV gzip, do mais antigo ao mais recente",
        "このサーバーのクレジット記録(gzip圧縮CSV、古い順)",
    ),
    r.USAGE_FILE: (
        "Diagramm der pro Tag ausgegebenen Credits über 30 Tage, nach Modell",
        "Graphique des crédits dépensés par jour sur 30 jours, par modèle",
        "Gráfico de créditos gastados por día en 30 días, por modelo",
        "Gráfico dos créditos gastos por dia em 30 dias, por modelo",
        "30日間の1日あたりの使用クレジット(モデル別)のグラフ",
    ),
    # --- /settings -------------------------------------------------------------------------------
    r.SETTINGS_MODEL: ("**Modell:** {value}", "**Modèle :** {value}", "**Modelo:** {value}", "**Modelo:** {value}", "**モデル:** {value}"),
    r.SETTINGS_RATIO: (
        "**Seitenverhältnis:** {value}", "**Format :** {value}", "**Relación de aspecto:** {value}",
        "**Proporção:** {value}", "**アスペクト比:** {value}",
    ),
    r.SETTINGS_STYLE: ("**Stil:** {value}", "**Style :** {value}", "**Estilo:** {value}", "**Estilo:** {value}", "**スタイル:** {value}"),
    r.SETTINGS_SPOILER: (
        "**Spoiler:** {value}", "**Spoiler :** {value}", "**Spoiler:** {value}", "**Spoiler:** {value}", "**スポイラー:** {value}",
    ),
    r.SETTINGS_PRIVATE: (
        "**Private Ergebnisse:** {value}", "**Résultats privés :** {value}", "**Resultados privados:** {value}",
        "**Resultados privados:** {value}", "**非公開の結果:** {value}",
    ),
    r.SETTINGS_NOT_ALLOWED: (
        " (dieser Server erlaubt sie nicht: Ergebnisse sind öffentlich)",
        " (ce serveur ne les autorise pas : les résultats sont publics)",
        " (este servidor no los permite: los resultados son públicos)",
        " (este servidor não permite: os resultados são públicos)",
        "(このサーバーでは使えません: 結果は公開されます)",
    ),
    r.SERVER_DEFAULT: ("Standard des Servers", "par défaut du serveur", "el del servidor", "padrão do servidor", "サーバーの既定"),
    r.MODEL_DEFAULT: ("Standard des Modells", "par défaut du modèle", "el del modelo", "padrão do modelo", "モデルの既定"),
    r.NONE: ("keiner", "aucun", "ninguno", "nenhum", "なし"),
    r.YES: ("ja", "oui", "sí", "sim", "はい"),
    r.NO: ("nein", "non", "no", "não", "いいえ"),
    # --- /queue, /mine, Info, /help, /config style list, /config results ----------------------------
    r.QUEUE_LINE: (
        "`{job}` {prompt}: {state} ({where})", "`{job}` {prompt} : {state} ({where})", "`{job}` {prompt}: {state} ({where})",
        "`{job}` {prompt}: {state} ({where})", "`{job}` {prompt}: {state}({where})",
    ),
    r.GENERATING: ("wird erzeugt", "en cours de génération", "generándose", "sendo gerada", "生成中"),
    r.NEXT: ("als Nächstes", "la prochaine", "la siguiente", "a próxima", "次"),
    r.AHEAD: ("{count} davor", "{count} avant", "{count} por delante", "{count} na frente", "前に{count}件"),
    "queued": ("in der Warteschlange", "en file d'attente", "en cola", "na fila", "待機中"),
    "submitting": ("wird gesendet", "en cours d'envoi", "enviándose", "sendo enviada", "送信中"),
    "submitted": ("gesendet", "envoyée", "enviada", "enviada", "送信済み"),
    r.MINE_HINT: (
        "-# /show job_id holt eines zurück.", "-# /show job_id en réaffiche une.", "-# /show job_id recupera una.",
        "-# /show job_id traz uma de volta.", "-# /show job_id で再表示できます。",
    ),
    r.MODEL: ("Modell", "Modèle", "Modelo", "Modelo", "モデル"),
    r.STYLE: ("Stil", "Style", "Estilo", "Estilo", "スタイル"),
    r.JOB: ("Auftrag {job}", "Tâche {job}", "Trabajo {job}", "Tarefa {job}", "ジョブ{job}"),
    r.HELP_TITLE: ("Bild-Bot", "Bot d'images", "Bot de imágenes", "Bot de imagens", "画像ボット"),
    r.STYLES_TITLE: (
        "Stile dieses Servers", "Styles de ce serveur", "Estilos de este servidor", "Estilos deste servidor",
        "このサーバーのスタイル",
    ),
    r.PRESENTATION: (
        "PNG-Textmetadaten (Prompt, Seed, Modell): {png}. Spoiler in altersbeschränkten Kanälen: {spoiler}. "
        "Private Ergebnisse: {private}.",
        "Métadonnées texte PNG (prompt, graine, modèle) : {png}. Spoiler dans les salons avec restriction d'âge :"
        " {spoiler}. Résultats privés : {private}.",
        "Metadatos de texto PNG (prompt, semilla, modelo): {png}. Spoiler en canales con restricción de edad:"
        " {spoiler}. Resultados privados: {private}.",
        "Metadados de texto PNG (prompt, semente, modelo): {png}. Spoiler em canais com restrição de idade:"
        " {spoiler}. Resultados privados: {private}.",
        "PNGのテキストメタデータ(プロンプト、シード、モデル): {png}。年齢制限チャンネルでのスポイラー: {spoiler}。"
        "非公開の結果: {private}。",
    ),
    r.ON: ("an", "activé", "activado", "ligado", "オン"),
    r.ALLOWED: ("erlaubt", "autorisé", "permitido", "permitido", "許可"),
    r.NOT_ALLOWED: ("nicht erlaubt", "non autorisé", "no permitido", "não permitido", "不許可"),
    # --- the result buttons --------------------------------------------------------------------------
    r.REROLL: ("Neu würfeln", "Relancer", "Repetir", "Refazer", "再生成"),
    r.EDIT: ("Bearbeiten", "Modifier", "Editar", "Editar", "編集"),
    r.FINALIZE: ("Mit Pro fertigstellen", "Finaliser avec Pro", "Finalizar con Pro", "Finalizar com Pro", "Proで仕上げる"),
    r.DELETE: ("Löschen", "Supprimer", "Borrar", "Apagar", "削除"),
    r.REPORT: ("Melden", "Signaler", "Denunciar", "Denunciar", "報告"),
    r.INFO: ("Info", "Infos", "Info", "Info", "情報"),
    # --- the Edit modal --------------------------------------------------------------------------------
    r.MODAL_TITLE: ("Mit FLUX bearbeiten", "Modifier avec FLUX", "Editar con FLUX", "Editar com FLUX", "FLUXで編集"),
    r.WHAT_CHANGES: (
        "Was soll sich ändern?", "Que faut-il changer ?", "¿Qué debe cambiar?", "O que deve mudar?", "何を変えますか?",
    ),
    r.UP_TO_REFERENCES: (
        "bis zu {count} Referenzbilder", "jusqu'à {count} images de référence", "hasta {count} imágenes de referencia",
        "até {count} imagens de referência", "参照画像は{count}枚まで",
    ),
    r.IMAGES_HERE: (
        "{images} Bild(er) hier; Klein nimmt die ersten {klein}, Pro bis zu {pro}",
        "{images} image(s) ici ; Klein prend les {klein} premières, Pro jusqu'à {pro}",
        "{images} imagen(es) aquí; Klein usa las primeras {klein}, Pro hasta {pro}",
        "{images} imagem(ns) aqui; o Klein usa as primeiras {klein}, o Pro até {pro}",
        "ここに{images}枚: Kleinは最初の{klein}枚、Proは{pro}枚まで使います",
    ),
    # --- an image that reached no one ----------------------------------------------------------------------
    r.UNDELIVERABLE: (
        "Dein Bild (Auftrag #{job}) ist fertig und bezahlt, konnte aber weder in {channel} gepostet noch dir {how}"
        " geschickt werden. Es wird sicher aufbewahrt: ein Bot-Besitzer kann es mit `/owner redeliver job_id:{job}`"
        " erneut senden (erlaube vorher DMs von Mitgliedern dieses Servers oder bitte einen Moderator, den Bot in"
        " diesem Kanal posten zu lassen).",
        "Votre image (tâche n°{job}) est prête et payée, mais elle n'a pu être ni publiée dans {channel} ni vous être"
        " envoyée {how}. Elle est gardée : un propriétaire du bot peut la renvoyer avec `/owner redeliver"
        " job_id:{job}` (autorisez d'abord les MP des membres de ce serveur, ou demandez à un modérateur de laisser le"
        " bot publier dans ce salon).",
        "Tu imagen (trabajo n.º {job}) está lista y pagada, pero no se pudo publicar en {channel} ni enviarte {how}."
        " Se guarda: un propietario del bot puede reenviarla con `/owner redeliver job_id:{job}` (antes permite los"
        " MD de los miembros de este servidor o pide a un moderador que deje publicar al bot en ese canal).",
        "Sua imagem (tarefa nº {job}) está pronta e paga, mas não pôde ser postada em {channel} nem enviada a você"
        " {how}. Ela está guardada: um dono do bot pode reenviá-la com `/owner redeliver job_id:{job}` (antes permita"
        " DMs de membros deste servidor ou peça a um moderador que deixe o bot postar nesse canal).",
        "画像(ジョブ#{job})は完成し支払い済みですが、{channel}に投稿できず、{how}送ることもできませんでした。"
        "画像は保管されています: ボットのオーナーが`/owner redeliver job_id:{job}`で再送できます"
        "(先にこのサーバーのメンバーからのDMを許可するか、そのチャンネルにボットが投稿できるようモデレーターに頼んでください)。",
    ),
    r.HERE: ("hier", "ici", "aquí", "aqui", "ここに"),
    r.BY_DM: ("per DM", "par MP", "por MD", "por DM", "DMで"),
    r.ALREADY_DECIDED: (
        "Über diese Anfrage hat schon jemand entschieden.", "Quelqu'un a déjà statué sur cette demande.",
        "Alguien ya decidió sobre esta solicitud.", "Alguém já decidiu sobre este pedido.",
        "このリクエストはすでに誰かが判断しました。",
    ),
}
