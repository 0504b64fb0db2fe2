"""Translations of /config: its confirmations (cogs/ui/reply_texts.py) and /config show's card
(cogs/ui/config_texts.py, with core/safety.py's tolerance labels), in catalogue.LOCALES' order."""

from __future__ import annotations

from cogs.ui import config_texts as c
from cogs.ui import reply_texts as r
from core.safety import LABELS

CONFIG: dict[str, tuple[str, str, str, str, str]] = {
    # --- confirmations -----------------------------------------------------------------------------
    r.CHANGED_LIST: (
        "{list}: {action} {target}", "{list} : {action} {target}", "{list}: {action} {target}",
        "{list}: {action} {target}", "{list}: {action} {target}",
    ),
    "channels": ("Kanäle", "salons", "canales", "canais", "チャンネル"),
    "roles": ("Rollen", "rôles", "roles", "cargos", "ロール"),
    "pro roles": ("Pro-Rollen", "rôles Pro", "roles Pro", "cargos Pro", "Proロール"),
    "exempt roles": ("ausgenommene Rollen", "rôles exemptés", "roles exentos", "cargos isentos", "対象外ロール"),
    "trusted roles": ("vertraute Rollen", "rôles de confiance", "roles de confianza", "cargos confiáveis", "信頼ロール"),
    r.CHANGED_FILTER: (
        "Filter: {action} {count} Begriff(e)", "filtre : {action} {count} terme(s)", "filtro: {action} {count} término(s)",
        "filtro: {action} {count} termo(s)", "フィルター: {action} {count}語",
    ),
    r.CHANGED_SAFETY: (
        "Sicherheit: normal {ordinary}, altersbeschränkt {age_restricted}",
        "sécurité : ordinaire {ordinary}, restriction d'âge {age_restricted}",
        "seguridad: normal {ordinary}, con restricción de edad {age_restricted}",
        "segurança: comum {ordinary}, com restrição de idade {age_restricted}",
        "安全性: 通常 {ordinary}、年齢制限 {age_restricted}",
    ),
    r.ADULT_EVERYWHERE: (
        "Inhalte für Erwachsene werden in jedem Kanal abgelehnt", "contenu adulte refusé dans tous les salons",
        "contenido adulto rechazado en todos los canales", "conteúdo adulto recusado em todos os canais",
        "成人向けコンテンツはすべてのチャンネルで拒否",
    ),
    r.ADULT_ORDINARY_ONLY: (
        "Inhalte für Erwachsene werden nur in normalen Kanälen abgelehnt",
        "contenu adulte refusé dans les salons ordinaires seulement",
        "contenido adulto rechazado solo en los canales normales",
        "conteúdo adulto recusado só nos canais comuns",
        "成人向けコンテンツは通常チャンネルでのみ拒否",
    ),
    r.OTHERS_ALLOWED: (
        "Bilder anderer bearbeiten: erlaubt", "modifier les images des autres : autorisé",
        "editar imágenes de otros: permitido", "editar imagens de outros: permitido", "他の人の画像の編集: 許可",
    ),
    r.OTHERS_NOT_ALLOWED: (
        "Bilder anderer bearbeiten: nicht erlaubt", "modifier les images des autres : non autorisé",
        "editar imágenes de otros: no permitido", "editar imagens de outros: não permitido", "他の人の画像の編集: 不許可",
    ),
    r.PACE_UPDATED: (
        "Tempolimits aktualisiert", "limites de rythme mises à jour", "límites de ritmo actualizados",
        "limites de ritmo atualizados", "ペース制限を更新しました",
    ),
    r.CHANGED_REVIEW: (
        "Prüfung in {channel}: {mode}", "modération dans {channel} : {mode}", "revisión en {channel}: {mode}",
        "revisão em {channel}: {mode}", "{channel}の審査: {mode}",
    ),
    r.MODLOG_SET: ("Mod-Log: {channel}", "journal de modération : {channel}", "registro de moderación: {channel}",
                   "registro de moderação: {channel}", "モッドログ: {channel}"),
    r.MODLOG_OFF: (
        "Mod-Log: aus (Prüfung ausgeschaltet)", "journal de modération : désactivé (modération désactivée)",
        "registro de moderación: desactivado (revisión desactivada)",
        "registro de moderação: desligado (revisão desligada)", "モッドログ: オフ(審査もオフ)",
    ),
    r.CHANGED_REPORTS: (
        "Meldungen verbergen ein Ergebnis ab {threshold}", "les signalements masquent un résultat à partir de {threshold}",
        "las denuncias ocultan un resultado a partir de {threshold}", "as denúncias ocultam um resultado a partir de {threshold}",
        "報告が{threshold}件で結果を非表示",
    ),
    # --- /config show ---------------------------------------------------------------------------------
    c.TITLE: (
        "Einstellungen des Bild-Bots für diesen Server", "Réglages du bot d'images pour ce serveur",
        "Ajustes del bot de imágenes para este servidor", "Configurações do bot de imagens para este servidor",
        "このサーバーの画像ボットの設定",
    ),
    c.CHANNELS: ("Kanäle", "Salons", "Canales", "Canais", "チャンネル"),
    c.WHO_GENERATES: ("Wer erzeugen darf", "Qui peut générer", "Quién puede generar", "Quem pode gerar", "生成できる人"),
    c.WHO_PRO: (
        "Wer FLUX.2 Pro nutzen darf", "Qui peut utiliser FLUX.2 Pro", "Quién puede usar FLUX.2 Pro",
        "Quem pode usar o FLUX.2 Pro", "FLUX.2 Proを使える人",
    ),
    c.SAFETY: ("Sicherheit (Pro)", "Sécurité (Pro)", "Seguridad (Pro)", "Segurança (Pro)", "安全性(Pro)"),
    c.SAFETY_VALUE: (
        "normale Kanäle {ordinary}; altersbeschränkte Kanäle {age_restricted}",
        "salons ordinaires {ordinary} ; salons avec restriction d'âge {age_restricted}",
        "canales normales {ordinary}; canales con restricción de edad {age_restricted}",
        "canais comuns {ordinary}; canais com restrição de idade {age_restricted}",
        "通常チャンネル {ordinary}、年齢制限チャンネル {age_restricted}",
    ),
    LABELS[0]: ("0 (am strengsten)", "0 (le plus strict)", "0 (el más estricto)", "0 (o mais rígido)", "0(最も厳しい)"),
    LABELS[1]: ("1 (sehr streng)", "1 (très strict)", "1 (muy estricto)", "1 (muito rígido)", "1(とても厳しい)"),
    LABELS[2]: ("2 (Standard)", "2 (par défaut)", "2 (por defecto)", "2 (padrão)", "2(既定)"),
    LABELS[3]: ("3 (locker)", "3 (souple)", "3 (relajado)", "3 (relaxado)", "3(ゆるめ)"),
    LABELS[4]: ("4 (freizügig)", "4 (permissif)", "4 (permisivo)", "4 (permissivo)", "4(寛容)"),
    LABELS[5]: ("5 (am freizügigsten)", "5 (le plus permissif)", "5 (el más permisivo)", "5 (o mais permissivo)", "5(最も寛容)"),
    c.BLOCKED_TERMS: ("Gesperrte Begriffe", "Termes bloqués", "Términos bloqueados", "Termos bloqueados", "ブロックする語"),
    c.TERMS_VALUE: (
        "{count} (plus die eingebaute Sicherheitsliste)", "{count} (plus la liste de sécurité intégrée)",
        "{count} (más la lista de seguridad incluida)", "{count} (mais a lista de segurança embutida)",
        "{count}(組み込みの安全リストに加えて)",
    ),
    c.ADULT: ("Inhalte für Erwachsene", "Contenu adulte", "Contenido adulto", "Conteúdo adulto", "成人向けコンテンツ"),
    c.REFUSED_EVERYWHERE: (
        "in jedem Kanal abgelehnt", "refusé dans tous les salons", "rechazado en todos los canales",
        "recusado em todos os canais", "すべてのチャンネルで拒否",
    ),
    c.REFUSED_OUTSIDE: (
        "außerhalb altersbeschränkter Kanäle abgelehnt", "refusé hors des salons avec restriction d'âge",
        "rechazado fuera de los canales con restricción de edad", "recusado fora dos canais com restrição de idade",
        "年齢制限チャンネル以外では拒否",
    ),
    c.EDIT_OTHERS: (
        "Bilder anderer bearbeiten", "Modifier les images des autres", "Editar imágenes de otros",
        "Editar imagens de outros", "他の人の画像の編集",
    ),
    c.OWN_ONLY: ("nur eigene Bilder", "ses propres images seulement", "solo imágenes propias", "só as próprias imagens", "自分の画像のみ"),
    c.PACE: ("Tempo pro Mitglied", "Rythme par membre", "Ritmo por miembro", "Ritmo por membro", "メンバーごとのペース"),
    c.COOLDOWN: ("Abklingzeit {seconds} s", "délai {seconds} s", "espera {seconds} s", "espera {seconds} s", "待ち時間{seconds}秒"),
    c.NO_COOLDOWN: ("keine Abklingzeit", "pas de délai", "sin espera", "sem espera", "待ち時間なし"),
    c.AT_A_TIME: ("{count} gleichzeitig", "{count} à la fois", "{count} a la vez", "{count} por vez", "同時に{count}"),
    c.NO_AT_A_TIME: (
        "keine Grenze gleichzeitig", "pas de limite simultanée", "sin límite simultáneo", "sem limite simultâneo",
        "同時実行の上限なし",
    ),
    c.IMAGES_PER_DAY: ("{count} Bilder/Tag", "{count} images/jour", "{count} imágenes/día", "{count} imagens/dia", "1日{count}枚"),
    c.NO_IMAGES_PER_DAY: (
        "kein tägliches Bildlimit", "pas de limite d'images par jour", "sin límite diario de imágenes",
        "sem limite diário de imagens", "1日の枚数上限なし",
    ),
    c.CREDITS_PER_DAY: (
        "{count} Credits/Tag", "{count} crédits/jour", "{count} créditos/día", "{count} créditos/dia", "1日{count}クレジット",
    ),
    c.NO_CREDITS_PER_DAY: (
        "kein tägliches Credit-Limit", "pas de limite de crédits par jour", "sin límite diario de créditos",
        "sem limite diário de créditos", "1日のクレジット上限なし",
    ),
    c.EXEMPT: ("Vom Tempo ausgenommen", "Exemptés du rythme", "Exentos del ritmo", "Isentos do ritmo", "ペース制限の対象外"),
    c.TRUSTED: (
        "Vertraut (ohne Prüfung)", "De confiance (sans modération)", "De confianza (sin revisión)",
        "Confiáveis (sem revisão)", "信頼済み(審査なし)",
    ),
    c.NOBODY: ("niemand", "personne", "nadie", "ninguém", "なし"),
    c.REVIEW: ("Prüfung", "Modération", "Revisión", "Revisão", "審査"),
    c.REVIEW_OFF: ("überall aus", "désactivée partout", "desactivada en todas partes", "desligada em todo lugar", "すべてオフ"),
    c.MODLOG: ("Mod-Log", "Journal de modération", "Registro de moderación", "Registro de moderação", "モッドログ"),
    c.NOT_SET: ("nicht festgelegt", "non défini", "sin definir", "não definido", "未設定"),
    c.REPORTS: (
        "Meldungen verbergen ein Ergebnis ab", "Les signalements masquent un résultat à partir de",
        "Las denuncias ocultan un resultado a partir de", "As denúncias ocultam um resultado a partir de",
        "結果を非表示にする報告数",
    ),
    c.EVERYONE: ("alle", "tout le monde", "todos", "todos", "全員"),
    c.ALL_CHANNELS: ("alle Kanäle", "tous les salons", "todos los canales", "todos os canais", "すべてのチャンネル"),
}
