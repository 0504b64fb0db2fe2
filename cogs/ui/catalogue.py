"""Translations of the member-facing commands and messages, keyed by their English text.

Each entry: English → (German, French, Spanish, Brazilian Portuguese, Japanese), the order of
`LOCALES`. Command and option *names* are in cogs/ui/catalogue_names.py (the English names keep
working as typed); descriptions, word choices and messages are here, with the admin commands' in
cogs/ui/catalogue_admin.py and a batch's in cogs/ui/catalogue_batch.py. tests/test_i18n.py fails
when an entry lacks a language or a translation's {fields} differ from the English.
"""

from __future__ import annotations

from cogs.ui import error_texts as et
from cogs.ui import member_texts as t
from cogs.ui.catalogue_admin import ADMIN
from cogs.ui.catalogue_batch import BATCH
from cogs.ui.catalogue_config import CONFIG
from cogs.ui.catalogue_errors import ERRORS
from cogs.ui.catalogue_messages import MESSAGES
from cogs.ui.catalogue_replies import REPLIES
from cogs.ui.catalogue_replies2 import REPLIES2

LOCALES = ("de", "fr", "es-ES", "pt-BR", "ja")

CATALOGUE: dict[str, tuple[str, str, str, str, str]] = {
    # --- command and option descriptions (Discord allows 100 characters) ---------------------
    "Generate an image with FLUX.2": (
        "Ein Bild mit FLUX.2 erzeugen", "Générer une image avec FLUX.2", "Genera una imagen con FLUX.2",
        "Gere uma imagem com FLUX.2", "FLUX.2で画像を生成",
    ),
    "What to draw": ("Was gezeichnet werden soll", "Ce qu'il faut dessiner", "Qué dibujar", "O que desenhar", "描く内容"),
    "Which FLUX.2 model (default: Klein 9B, cheaper and faster)": (
        "Welches FLUX.2-Modell (Standard: Klein 9B, günstiger und schneller)",
        "Quel modèle FLUX.2 (par défaut : Klein 9B, moins cher et plus rapide)",
        "Qué modelo FLUX.2 (por defecto: Klein 9B, más barato y rápido)",
        "Qual modelo FLUX.2 (padrão: Klein 9B, mais barato e rápido)",
        "FLUX.2のモデル(既定: Klein 9B、安くて速い)",
    ),
    "Shape of the image": ("Format des Bildes", "Format de l'image", "Forma de la imagen", "Formato da imagem", "画像の形"),
    "Same seed + same prompt = same image": (
        "Gleicher Seed + gleicher Prompt = gleiches Bild", "Même graine + même prompt = même image",
        "Misma semilla + mismo prompt = misma imagen", "Mesma semente + mesmo prompt = mesma imagem",
        "同じシード+同じプロンプト=同じ画像",
    ),
    "png, jpeg or webp (Pro: png or jpeg)": (
        "png, jpeg oder webp (Pro: png oder jpeg)", "png, jpeg ou webp (Pro : png ou jpeg)",
        "png, jpeg o webp (Pro: png o jpeg)", "png, jpeg ou webp (Pro: png ou jpeg)", "png、jpeg、webp(Proはpngかjpeg)",
    ),
    "Pro only: width in pixels (multiple of 16)": (
        "Nur Pro: Breite in Pixeln (Vielfaches von 16)", "Pro uniquement : largeur en pixels (multiple de 16)",
        "Solo Pro: ancho en píxeles (múltiplo de 16)", "Só Pro: largura em pixels (múltiplo de 16)",
        "Proのみ: 幅(ピクセル、16の倍数)",
    ),
    "Pro only: height in pixels (multiple of 16)": (
        "Nur Pro: Höhe in Pixeln (Vielfaches von 16)", "Pro uniquement : hauteur en pixels (multiple de 16)",
        "Solo Pro: alto en píxeles (múltiplo de 16)", "Só Pro: altura em pixels (múltiplo de 16)",
        "Proのみ: 高さ(ピクセル、16の倍数)",
    ),
    "Klein only: what to avoid": (
        "Nur Klein: was vermieden werden soll", "Klein uniquement : ce qu'il faut éviter", "Solo Klein: qué evitar",
        "Só Klein: o que evitar", "Kleinのみ: 避けたい内容",
    ),
    "Klein only: inference steps (1-100)": (
        "Nur Klein: Inferenzschritte (1-100)", "Klein uniquement : étapes d'inférence (1-100)",
        "Solo Klein: pasos de inferencia (1-100)", "Só Klein: passos de inferência (1-100)", "Kleinのみ: 推論ステップ数(1-100)",
    ),
    "Klein only: guidance scale (1-20)": (
        "Nur Klein: Guidance-Skala (1-20)", "Klein uniquement : échelle de guidage (1-20)",
        "Solo Klein: escala de guía (1-20)", "Só Klein: escala de orientação (1-20)", "Kleinのみ: ガイダンススケール(1-20)",
    ),
    "Klein only: sampling method": (
        "Nur Klein: Sampling-Verfahren", "Klein uniquement : méthode d'échantillonnage", "Solo Klein: método de muestreo",
        "Só Klein: método de amostragem", "Kleinのみ: サンプリング方式",
    ),
    "Klein only: fast mode": (
        "Nur Klein: Schnellmodus", "Klein uniquement : mode rapide", "Solo Klein: modo rápido", "Só Klein: modo rápido",
        "Kleinのみ: 高速モード",
    ),
    "Klein only: output quality (10-100)": (
        "Nur Klein: Ausgabequalität (10-100)", "Klein uniquement : qualité de sortie (10-100)",
        "Solo Klein: calidad de salida (10-100)", "Só Klein: qualidade de saída (10-100)", "Kleinのみ: 出力品質(10-100)",
    ),
    "How many images (1-4); each is its own job and is charged on its own": (
        "Wie viele Bilder (1-4); jedes ist ein eigener Auftrag und wird einzeln berechnet",
        "Combien d'images (1-4) ; chacune est une tâche facturée à part",
        "Cuántas imágenes (1-4); cada una es un trabajo y se cobra por separado",
        "Quantas imagens (1-4); cada uma é um trabalho cobrado à parte",
        "画像の枚数(1-4)。1枚ずつ別のジョブとして課金されます",
    ),
    "One of this server's styles (see /config style list)": (
        "Einer der Stile dieses Servers (siehe /config style list)",
        "Un des styles de ce serveur (voir /config style list)",
        "Uno de los estilos de este servidor (ver /config style list)",
        "Um dos estilos deste servidor (veja /config style list)",
        "このサーバーのスタイル(/config style list を参照)",
    ),
    "Post the result behind a spoiler": (
        "Das Ergebnis als Spoiler posten", "Publier le résultat sous spoiler", "Publicar el resultado como spoiler",
        "Publicar o resultado como spoiler", "結果をスポイラーとして投稿",
    ),
    "Edit images you attach with FLUX.2": (
        "Angehängte Bilder mit FLUX.2 bearbeiten", "Modifier les images jointes avec FLUX.2",
        "Edita con FLUX.2 las imágenes que adjuntes", "Edite com FLUX.2 as imagens que anexar",
        "添付した画像をFLUX.2で編集",
    ),
    "The image to edit (PNG, JPEG or WebP)": (
        "Das zu bearbeitende Bild (PNG, JPEG oder WebP)", "L'image à modifier (PNG, JPEG ou WebP)",
        "La imagen a editar (PNG, JPEG o WebP)", "A imagem a editar (PNG, JPEG ou WebP)", "編集する画像(PNG、JPEG、WebP)",
    ),
    "Another reference image": (
        "Ein weiteres Referenzbild", "Une autre image de référence", "Otra imagen de referencia",
        "Outra imagem de referência", "別の参照画像",
    ),
    "match input image": (
        "wie das Eingabebild", "comme l'image d'entrée", "igual que la imagen de entrada", "igual à imagem de entrada",
        "入力画像に合わせる",
    ),
    "Your images waiting or being generated here, with their place": (
        "Deine wartenden oder laufenden Bilder hier, mit ihrem Platz",
        "Vos images en attente ou en cours ici, avec leur place",
        "Tus imágenes en espera o en curso aquí, con su puesto",
        "Suas imagens esperando ou sendo geradas aqui, com a posição",
        "ここで待機中・生成中のあなたの画像と順番",
    ),
    "Your defaults in this server, used when you leave an option out": (
        "Deine Standardwerte auf diesem Server, wenn du eine Option weglässt",
        "Vos valeurs par défaut sur ce serveur, quand vous omettez une option",
        "Tus valores por defecto en este servidor, cuando omites una opción",
        "Seus padrões neste servidor, usados quando você omite uma opção",
        "オプションを省略したときに使うこのサーバーでの既定値",
    ),
    "Your default model": ("Dein Standardmodell", "Votre modèle par défaut", "Tu modelo por defecto", "Seu modelo padrão", "既定のモデル"),
    "Your default shape": ("Dein Standardformat", "Votre format par défaut", "Tu forma por defecto", "Seu formato padrão", "既定の形"),
    "Your default style (type none to clear)": (
        "Dein Standardstil (none zum Löschen)", "Votre style par défaut (none pour l'effacer)",
        "Tu estilo por defecto (none para quitarlo)", "Seu estilo padrão (none para limpar)", "既定のスタイル(none で解除)",
    ),
    "Post your results behind a spoiler": (
        "Deine Ergebnisse als Spoiler posten", "Publier vos résultats sous spoiler", "Publicar tus resultados como spoiler",
        "Publicar seus resultados como spoiler", "結果をスポイラーとして投稿",
    ),
    "Results only you see (where this server allows them)": (
        "Ergebnisse, die nur du siehst (wo der Server es erlaubt)",
        "Des résultats que vous seul voyez (si le serveur le permet)",
        "Resultados que solo ves tú (donde el servidor lo permita)",
        "Resultados que só você vê (onde o servidor permitir)",
        "自分だけに見える結果(サーバーが許可している場合)",
    ),
    "Forget all your defaults here": (
        "Alle deine Standardwerte hier vergessen", "Oublier toutes vos valeurs par défaut ici",
        "Olvidar aquí todos tus valores por defecto", "Esquecer todos os seus padrões aqui", "ここでの既定値をすべて消す",
    ),
    "Your recent images in this server (free)": (
        "Deine letzten Bilder auf diesem Server (kostenlos)", "Vos images récentes sur ce serveur (gratuit)",
        "Tus imágenes recientes en este servidor (gratis)", "Suas imagens recentes neste servidor (grátis)",
        "このサーバーでの最近の画像(無料)",
    ),
    "Bring back a stored image (yours; any, for moderators). Free": (
        "Ein gespeichertes Bild zurückholen (deins; Moderatoren: jedes). Kostenlos",
        "Réafficher une image stockée (la vôtre ; toute image pour les modérateurs). Gratuit",
        "Recuperar una imagen guardada (tuya; cualquiera, para moderadores). Gratis",
        "Trazer de volta uma imagem salva (sua; qualquer uma, para moderadores). Grátis",
        "保存された画像を再表示(自分のもの、モデレーターは全員分)。無料",
    ),
    "The number in the image's footer (see /mine)": (
        "Die Nummer in der Fußzeile des Bildes (siehe /mine)", "Le numéro en bas de l'image (voir /mine)",
        "El número al pie de la imagen (ver /mine)", "O número no rodapé da imagem (veja /mine)",
        "画像のフッターにある番号(/mine を参照)",
    ),
    "What the image bot can do, on one screen": (
        "Was der Bild-Bot kann, auf einen Blick", "Ce que le bot d'images sait faire, en un écran",
        "Lo que puede hacer el bot de imágenes, en una pantalla", "O que o bot de imagens faz, em uma tela",
        "画像ボットでできること(1画面)",
    ),
    # --- messages -------------------------------------------------------------------------------
    t.STARTING: ("⏳ Wird gestartet…", "⏳ Démarrage…", "⏳ Empezando…", "⏳ Iniciando…", "⏳ 開始しています…"),
    t.QUEUED_NEXT: (
        "⏳ In der Warteschlange: als Nächstes dran…", "⏳ En file d'attente : la prochaine…",
        "⏳ En cola: la siguiente…", "⏳ Na fila: é a próxima…", "⏳ 待機中: 次に開始します…",
    ),
    t.QUEUED_AHEAD: (
        "⏳ In der Warteschlange: {count} vor deinem…", "⏳ En file d'attente : {count} avant la vôtre…",
        "⏳ En cola: {count} por delante de la tuya…", "⏳ Na fila: {count} antes da sua…",
        "⏳ 待機中: あなたの前に {count} 件…",
    ),
    t.RUNNING: (
        "🎨 Wird mit {model} erzeugt… {seconds} s", "🎨 Génération avec {model}… {seconds} s",
        "🎨 Generando con {model}… {seconds} s", "🎨 Gerando com {model}… {seconds} s", "🎨 {model} で生成中… {seconds} 秒",
    ),
    t.CANCELLED: (
        "🛑 Abgebrochen, bevor es an den Bilddienst ging: {price} Credits sind wieder frei.",
        "🛑 Annulé avant l'envoi au service d'images : {price} crédits sont de nouveau libres.",
        "🛑 Cancelado antes de enviarse al servicio de imágenes: {price} créditos vuelven a estar libres.",
        "🛑 Cancelado antes de ser enviado ao serviço de imagens: {price} créditos estão livres de novo.",
        "🛑 画像サービスに送信する前にキャンセルしました。{price} クレジットが戻りました。",
    ),
    t.TOO_LATE: (
        "Dieses Bild wurde schon an den Bilddienst geschickt, der es berechnet; es kann nicht mehr abgebrochen werden.",
        "Cette image a déjà été envoyée au service d'images, qui la facture ; elle ne peut plus être annulée.",
        "Esta imagen ya se envió al servicio de imágenes, que la cobra; ya no se puede cancelar.",
        "Esta imagem já foi enviada ao serviço de imagens, que a cobra; não pode mais ser cancelada.",
        "この画像はすでに画像サービスに送信され課金されるため、キャンセルできません。",
    ),
    t.QUEUE_EMPTY: (
        "Du hast auf diesem Server keine wartenden oder laufenden Bilder.",
        "Vous n'avez aucune image en attente ou en cours sur ce serveur.",
        "No tienes imágenes en espera o en curso en este servidor.",
        "Você não tem imagens esperando ou sendo geradas neste servidor.",
        "このサーバーで待機中・生成中の画像はありません。",
    ),
    t.STYLE_SAVED: (
        "Stil `{name}` gespeichert. Mitglieder wählen ihn mit `/imagine style:{name}`.",
        "Style `{name}` enregistré. Les membres le choisissent avec `/imagine style:{name}`.",
        "Estilo `{name}` guardado. Los miembros lo eligen con `/imagine style:{name}`.",
        "Estilo `{name}` salvo. Os membros o escolhem com `/imagine style:{name}`.",
        "スタイル `{name}` を保存しました。メンバーは `/imagine style:{name}` で選べます。",
    ),
    t.STYLE_REMOVED: (
        "Stil `{name}` entfernt.", "Style `{name}` supprimé.", "Estilo `{name}` eliminado.", "Estilo `{name}` removido.",
        "スタイル `{name}` を削除しました。",
    ),
    t.STYLE_UNKNOWN: (
        "Dieser Server hat keinen Stil namens `{name}`.", "Ce serveur n'a pas de style nommé `{name}`.",
        "Este servidor no tiene un estilo llamado `{name}`.", "Este servidor não tem um estilo chamado `{name}`.",
        "このサーバーに `{name}` というスタイルはありません。",
    ),
    t.NO_STYLES: (
        "Dieser Server hat noch keine Stile. Ein Admin fügt sie mit `/config style add` hinzu.",
        "Ce serveur n'a pas encore de styles. Un admin en ajoute avec `/config style add`.",
        "Este servidor aún no tiene estilos. Un admin los añade con `/config style add`.",
        "Este servidor ainda não tem estilos. Um admin adiciona com `/config style add`.",
        "このサーバーにはまだスタイルがありません。管理者が `/config style add` で追加できます。",
    ),
    t.MINE_EMPTY: (
        "Du hast auf diesem Server keine gespeicherten Bilder.", "Vous n'avez aucune image stockée sur ce serveur.",
        "No tienes imágenes guardadas en este servidor.", "Você não tem imagens salvas neste servidor.",
        "このサーバーに保存された画像はありません。",
    ),
    t.SETTINGS_SAVED: (
        "Deine Standardwerte für diesen Server sind gespeichert.",
        "Vos valeurs par défaut pour ce serveur sont enregistrées.",
        "Tus valores por defecto en este servidor están guardados.",
        "Seus padrões neste servidor foram salvos.",
        "このサーバーでの既定値を保存しました。",
    ),
    t.INFO_TITLE: (
        "So entsteht dieses Bild noch einmal", "Comment refaire cette image", "Cómo volver a crear esta imagen",
        "Como fazer esta imagem de novo", "この画像をもう一度作る方法",
    ),
    t.HELP: (
        "**Bilder erstellen**\n`/imagine prompt` ein neues Bild · `count:` bis zu 4 auf einmal · `style:` ein Stil des"
        " Servers\n`/edit prompt image` ein angehängtes Bild ändern · oder Rechtsklick auf ein Bild → Apps →"
        " **Mit FLUX bearbeiten**\nUnter jedem Ergebnis: 🎲 Neu würfeln · ✏️ Bearbeiten · ✨ Mit Pro fertigstellen · ℹ️ Info\n\n"
        "**Deine Sachen**\n`/queue` deine wartenden Bilder (mit Abbrechen) · `/mine` deine letzten Bilder ·"
        " `/show job_id` eines zurückholen\n`/settings` deine Standardwerte (Modell, Format, Stil, Spoiler) ·"
        " `/credits balance` die Credits des Servers\n\n"
        "**Admins**\n`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`",
        "**Créer des images**\n`/imagine prompt` une nouvelle image · `count:` jusqu'à 4 à la fois · `style:` un"
        " style du serveur\n`/edit prompt image` modifier une image jointe · ou clic droit sur une image → Apps →"
        " **Modifier avec FLUX**\nSous chaque résultat : 🎲 Relancer · ✏️ Modifier · ✨ Finaliser avec Pro · ℹ️ Infos\n\n"
        "**Vos affaires**\n`/queue` vos images en attente (avec Annuler) · `/mine` vos images récentes ·"
        " `/show job_id` en réafficher une\n`/settings` vos valeurs par défaut (modèle, format, style, spoiler) ·"
        " `/credits balance` les crédits du serveur\n\n"
        "**Admins**\n`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`",
        "**Crear imágenes**\n`/imagine prompt` una imagen nueva · `count:` hasta 4 a la vez · `style:` un estilo"
        " del servidor\n`/edit prompt image` cambiar una imagen adjunta · o clic derecho en una imagen → Apps →"
        " **Editar con FLUX**\nBajo cada resultado: 🎲 Repetir · ✏️ Editar · ✨ Finalizar con Pro · ℹ️ Info\n\n"
        "**Lo tuyo**\n`/queue` tus imágenes en espera (con Cancelar) · `/mine` tus imágenes recientes ·"
        " `/show job_id` recuperar una\n`/settings` tus valores por defecto (modelo, forma, estilo, spoiler) ·"
        " `/credits balance` los créditos del servidor\n\n"
        "**Admins**\n`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`",
        "**Criar imagens**\n`/imagine prompt` uma imagem nova · `count:` até 4 de uma vez · `style:` um estilo do"
        " servidor\n`/edit prompt image` mudar uma imagem anexada · ou clique direito numa imagem → Apps →"
        " **Editar com FLUX**\nAbaixo de cada resultado: 🎲 Refazer · ✏️ Editar · ✨ Finalizar com Pro · ℹ️ Info\n\n"
        "**Suas coisas**\n`/queue` suas imagens na fila (com Cancelar) · `/mine` suas imagens recentes ·"
        " `/show job_id` trazer uma de volta\n`/settings` seus padrões (modelo, formato, estilo, spoiler) ·"
        " `/credits balance` os créditos do servidor\n\n"
        "**Admins**\n`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`",
        "**画像を作る**\n`/imagine prompt` 新しい画像 · `count:` 一度に4枚まで · `style:` サーバーのスタイル\n"
        "`/edit prompt image` 添付した画像を変更 · または画像を右クリック → アプリ → **FLUXで編集**\n"
        "各結果の下: 🎲 再生成 · ✏️ 編集 · ✨ Proで仕上げる · ℹ️ 情報\n\n"
        "**あなたのもの**\n`/queue` 待機中の画像(キャンセル可) · `/mine` 最近の画像 · `/show job_id` 画像を再表示\n"
        "`/settings` 既定値(モデル、形、スタイル、スポイラー) · `/credits balance` サーバーのクレジット\n\n"
        "**管理者**\n`/config show` · `/config style add` · `/credits-admin settings` · `/credits-admin history`",
    ),
    t.SETUP: (
        "👋 Danke, dass ihr den Bild-Bot hinzugefügt habt! Drei erste Schritte für die Admins:\n"
        "1. Credits hinzufügen: Der Besitzer des Bots führt `/credits-admin grant` aus (jedes Bild wird aus den Credits"
        " des Servers bezahlt).\n2. Wo und wer: `/config channels`, `/config roles` und ein Mod-Log mit"
        " `/config modlog`.\n3. Ausprobieren: `/imagine prompt:a lighthouse at dawn`, dann `/help` für den Rest.",
        "👋 Merci d'avoir ajouté le bot d'images ! Trois premières étapes pour les admins :\n"
        "1. Ajouter des crédits : le propriétaire du bot lance `/credits-admin grant` (chaque image est payée sur les"
        " crédits du serveur).\n2. Choisir où et qui : `/config channels`, `/config roles`, et un journal de"
        " modération avec `/config modlog`.\n3. Essayer : `/imagine prompt:a lighthouse at dawn`, puis `/help` pour"
        " le reste.",
        "👋 ¡Gracias por añadir el bot de imágenes! Tres primeros pasos para los admins:\n"
        "1. Añadir créditos: el dueño del bot ejecuta `/credits-admin grant` (cada imagen se paga con los créditos del"
        " servidor).\n2. Elegir dónde y quién: `/config channels`, `/config roles` y un registro de moderación con"
        " `/config modlog`.\n3. Probarlo: `/imagine prompt:a lighthouse at dawn`, y luego `/help` para el resto.",
        "👋 Obrigado por adicionar o bot de imagens! Três primeiros passos para os admins:\n"
        "1. Adicionar créditos: o dono do bot executa `/credits-admin grant` (cada imagem é paga com os créditos do"
        " servidor).\n2. Escolher onde e quem: `/config channels`, `/config roles` e um log de moderação com"
        " `/config modlog`.\n3. Experimentar: `/imagine prompt:a lighthouse at dawn`, depois `/help` para o resto.",
        "👋 画像ボットを追加していただきありがとうございます!管理者向けの最初の3ステップ:\n"
        "1. クレジットを追加: ボットのオーナーが `/credits-admin grant` を実行します(画像はサーバーのクレジットで支払われます)。\n"
        "2. 場所と利用者を選ぶ: `/config channels`、`/config roles`、`/config modlog` でモデレーションログ。\n"
        "3. 試す: `/imagine prompt:a lighthouse at dawn`、その後 `/help` で残りを確認。",
    ),
}

# --- refusals and failures (cogs/ui/error_texts.py) ---------------------------------------------
CATALOGUE.update(
    {
        et.NOT_CHARGED: (
            "Dir wurde nichts berechnet.", "Rien ne vous a été facturé.", "No se te ha cobrado nada.",
            "Nada foi cobrado.", "料金はかかっていません。",
        ),
        et.INSUFFICIENT: (
            "Dieser Server hat nicht genug Credits: Dieses Bild kostet {cost}, verfügbar sind {balance}.",
            "Ce serveur n'a pas assez de crédits : cette image coûte {cost} et {balance} sont disponibles.",
            "Este servidor no tiene créditos suficientes: esta imagen cuesta {cost} y hay {balance} disponibles.",
            "Este servidor não tem créditos suficientes: esta imagem custa {cost} e há {balance} disponíveis.",
            "このサーバーのクレジットが足りません。この画像は {cost}、利用可能なのは {balance} です。",
        ),
        et.ALLOWANCE_DAY: (
            "Dein Kontingent hier ist {limit} Credits pro Tag; heute sind {left} übrig und dieses Bild kostet {cost}.",
            "Votre quota ici est de {limit} crédits par jour ; il en reste {left} aujourd'hui et cette image coûte {cost}.",
            "Tu cupo aquí es de {limit} créditos al día; te quedan {left} hoy y esta imagen cuesta {cost}.",
            "Sua cota aqui é de {limit} créditos por dia; restam {left} hoje e esta imagem custa {cost}.",
            "ここでのあなたの上限は1日 {limit} クレジットです。今日の残りは {left}、この画像は {cost} です。",
        ),
        et.ALLOWANCE_MONTH: (
            "Dein Kontingent hier ist {limit} Credits pro Monat; diesen Monat sind {left} übrig und dieses Bild"
            " kostet {cost}.",
            "Votre quota ici est de {limit} crédits par mois ; il en reste {left} ce mois-ci et cette image coûte"
            " {cost}.",
            "Tu cupo aquí es de {limit} créditos al mes; te quedan {left} este mes y esta imagen cuesta {cost}.",
            "Sua cota aqui é de {limit} créditos por mês; restam {left} este mês e esta imagem custa {cost}.",
            "ここでのあなたの上限は月 {limit} クレジットです。今月の残りは {left}、この画像は {cost} です。",
        ),
        et.QUEUE_FULL: (
            "Auf diesem Server warten schon {limit} Bilder. Versuch es wieder, wenn einige fertig sind.",
            "Ce serveur a déjà {limit} images en attente. Réessayez quand certaines seront terminées.",
            "Este servidor ya tiene {limit} imágenes en espera. Inténtalo cuando terminen algunas.",
            "Este servidor já tem {limit} imagens esperando. Tente de novo quando algumas terminarem.",
            "このサーバーではすでに {limit} 枚が待機中です。いくつか終わってから再度お試しください。",
        ),
        et.COOLDOWN: (
            "Etwas langsamer: Du kannst in {seconds} s wieder erzeugen.",
            "Doucement : vous pourrez générer à nouveau dans {seconds} s.",
            "Más despacio: podrás generar de nuevo en {seconds} s.",
            "Calma: você poderá gerar de novo em {seconds} s.",
            "少し待ってください: {seconds} 秒後にまた生成できます。",
        ),
        et.RUNNING: (
            "Du hast schon {limit} Bilder in Arbeit. Warte, bis eines fertig ist.",
            "Vous avez déjà {limit} images en cours. Attendez qu'une se termine.",
            "Ya tienes {limit} imágenes en curso. Espera a que termine una.",
            "Você já tem {limit} imagens em andamento. Espere uma terminar.",
            "すでに {limit} 枚を生成中です。1枚終わるまでお待ちください。",
        ),
        et.DAILY_JOBS: (
            "Du hast das Limit dieses Servers von {limit} Bildern pro Tag erreicht.",
            "Vous avez atteint la limite de ce serveur : {limit} images par jour.",
            "Has alcanzado el límite de este servidor de {limit} imágenes al día.",
            "Você atingiu o limite deste servidor de {limit} imagens por dia.",
            "このサーバーの1日 {limit} 枚の上限に達しました。",
        ),
        et.DAILY_CREDITS: (
            "Du hast das Limit dieses Servers von {limit} Credits pro Tag erreicht.",
            "Vous avez atteint la limite de ce serveur : {limit} crédits par jour.",
            "Has alcanzado el límite de este servidor de {limit} créditos al día.",
            "Você atingiu o limite deste servidor de {limit} créditos por dia.",
            "このサーバーの1日 {limit} クレジットの上限に達しました。",
        ),
        et.SAFETY_FILTER: (
            "Dieser Prompt ist nicht erlaubt: Er trifft den Sicherheitsfilter des Bots.",
            "Ce prompt n'est pas autorisé : il correspond au filtre de sécurité du bot.",
            "Ese prompt no está permitido: coincide con el filtro de seguridad del bot.",
            "Esse prompt não é permitido: ele corresponde ao filtro de segurança do bot.",
            "このプロンプトは使えません: ボットの安全フィルターに該当します。",
        ),
        et.CHANNEL: (
            "In diesem Kanal können keine Bilder erzeugt werden.", "On ne peut pas générer d'images dans ce salon.",
            "No se pueden generar imágenes en este canal.", "Não é possível gerar imagens neste canal.",
            "このチャンネルでは画像を生成できません。",
        ),
        et.BLOCKED: (
            "Ein Moderator hat dich auf diesem Server vom Erzeugen von Bildern ausgeschlossen.",
            "Un modérateur vous a bloqué pour la génération d'images sur ce serveur.",
            "Un moderador te ha bloqueado para generar imágenes en este servidor.",
            "Um moderador bloqueou você de gerar imagens neste servidor.",
            "モデレーターにより、このサーバーでの画像生成がブロックされています。",
        ),
        et.MODERATED: (
            "Das Bild wurde vom Sicherheitsfilter des Anbieters blockiert.",
            "L'image a été bloquée par le filtre de sécurité du fournisseur.",
            "La imagen fue bloqueada por el filtro de seguridad del proveedor.",
            "A imagem foi bloqueada pelo filtro de segurança do provedor.",
            "画像はプロバイダーの安全フィルターでブロックされました。",
        ),
        et.BUSY: (
            "Der Bilddienst ist gerade zu ausgelastet. Versuch es in einer Minute noch einmal.",
            "Le service d'images est trop occupé. Réessayez dans une minute.",
            "El servicio de imágenes está demasiado ocupado. Inténtalo de nuevo en un minuto.",
            "O serviço de imagens está ocupado demais. Tente de novo em um minuto.",
            "画像サービスが混み合っています。1分後にもう一度お試しください。",
        ),
        et.TROUBLE: (
            "Der Bilddienst hat gerade Probleme. Bitte versuch es später noch einmal.",
            "Le service d'images rencontre des problèmes. Réessayez plus tard.",
            "El servicio de imágenes tiene problemas ahora mismo. Inténtalo más tarde.",
            "O serviço de imagens está com problemas agora. Tente mais tarde.",
            "画像サービスに問題が発生しています。後でもう一度お試しください。",
        ),
        et.SERVER_ONLY: (
            "Dieser Befehl funktioniert nur auf einem Server, nicht in Direktnachrichten.",
            "Cette commande ne fonctionne que sur un serveur, pas en messages privés.",
            "Este comando solo funciona en un servidor, no en mensajes directos.",
            "Este comando só funciona em um servidor, não em mensagens diretas.",
            "このコマンドはサーバー内でのみ使えます(DMでは使えません)。",
        ),
    }
)

# --- a batch's one message (cogs/ui/batch_texts.py) ----------------------------------------------
CATALOGUE.update(BATCH)

# --- admin, moderator, owner and privacy commands (cogs/ui/catalogue_admin.py) --------------------
CATALOGUE.update(ADMIN)

# --- the rarer refusals and failures (cogs/ui/catalogue_errors.py) -------------------------------
CATALOGUE.update(ERRORS)

# --- cogs/ui/messages.py's fixed sentences and a quote's card (cogs/ui/catalogue_messages.py) -----
CATALOGUE.update(MESSAGES)

# --- /privacy's and /mod's replies (cogs/ui/catalogue_replies.py) --------------------------------
CATALOGUE.update(REPLIES)

# --- credits, /settings, /queue, buttons and /config replies (catalogue_replies2.py, catalogue_config.py)
CATALOGUE.update(REPLIES2)
CATALOGUE.update(CONFIG)
