"""Translations of the rarer refusals and failures (cogs/ui/error_texts.py), in catalogue.LOCALES' order."""

from __future__ import annotations

from cogs.ui import error_texts as et

ERRORS: dict[str, tuple[str, str, str, str, str]] = {
    et.OPTION: (
        "Die Option `{option}`: {reason}.", "L'option `{option}` : {reason}.", "La opción `{option}`: {reason}.",
        "A opção `{option}`: {reason}.", "オプション `{option}`: {reason}。",
    ),
    et.ATTACHMENT: (
        "Die Datei `{filename}`: {reason}. Verwende ein PNG-, JPEG- oder WebP-Bild.",
        "Le fichier `{filename}` : {reason}. Utilisez une image PNG, JPEG ou WebP.",
        "El archivo `{filename}`: {reason}. Usa una imagen PNG, JPEG o WebP.",
        "O arquivo `{filename}`: {reason}. Use uma imagem PNG, JPEG ou WebP.",
        "ファイル `{filename}`: {reason}。PNG、JPEG、WebPの画像を使ってください。",
    ),
    et.AMOUNT: (
        "{amount} ist keine gültige Anzahl Credits.", "{amount} n'est pas un nombre de crédits valide.",
        "{amount} no es una cantidad de créditos válida.", "{amount} não é uma quantidade válida de créditos.",
        "{amount} は有効なクレジット数ではありません。",
    ),
    et.JOB_UNKNOWN: (
        "Dieses Bild kennt der Bot nicht mehr (es gehört vielleicht zu einem anderen Server oder wurde gelöscht).",
        "Le bot ne connaît plus cette image (elle appartient peut-être à un autre serveur ou a été supprimée).",
        "El bot ya no conoce esta imagen (puede ser de otro servidor o haberse borrado).",
        "O bot não conhece mais esta imagem (pode ser de outro servidor ou ter sido apagada).",
        "この画像はもうボットにありません(別のサーバーのものか、削除された可能性があります)。",
    ),
    et.NOT_ALLOWED: (
        "Das darfst du nicht: {action}.", "Vous n'avez pas le droit de faire ceci : {action}.",
        "No tienes permiso para esto: {action}.", "Você não tem permissão para isto: {action}.",
        "この操作は許可されていません: {action}。",
    ),
    et.ALREADY_REFUNDED: (
        "Auftrag {job_id} wurde schon erstattet.", "La tâche {job_id} a déjà été remboursée.",
        "El trabajo {job_id} ya se reembolsó.", "O trabalho {job_id} já foi reembolsado.", "ジョブ{job_id}はすでに返金済みです。",
    ),
    et.NEVER_CHARGED: (
        "Auftrag {job_id} wurde auf diesem Server nie berechnet, es gibt nichts zu erstatten.",
        "La tâche {job_id} n'a jamais été facturée sur ce serveur : rien à rembourser.",
        "El trabajo {job_id} nunca se cobró en este servidor: no hay nada que reembolsar.",
        "O trabalho {job_id} nunca foi cobrado neste servidor: não há nada a reembolsar.",
        "ジョブ{job_id}はこのサーバーで課金されていないため、返金するものはありません。",
    ),
    et.CANCELLED_FREE: (
        "Abgebrochen, bevor es an den Bilddienst ging: {price} Credits sind wieder frei.",
        "Annulé avant l'envoi au service d'images : {price} crédits sont de nouveau libres.",
        "Cancelado antes de enviarse al servicio de imágenes: {price} créditos vuelven a estar libres.",
        "Cancelado antes de ir ao serviço de imagens: {price} créditos estão livres de novo.",
        "画像サービスに送られる前にキャンセルしました: {price}クレジットは戻りました。",
    ),
    et.PROVIDER_EMPTY: (
        "Das Konto des Bilddienstes hat kein Guthaben mehr; der Betreiber des Bots ist informiert. Bitte versuch es später.",
        "Le compte du service d'images est à court de crédit ; l'opérateur du bot est prévenu. Réessayez plus tard.",
        "La cuenta del servicio de imágenes se quedó sin saldo; el operador del bot está avisado. Inténtalo más tarde.",
        "A conta do serviço de imagens está sem saldo; o operador do bot foi avisado. Tente mais tarde.",
        "画像サービスのアカウント残高がありません。ボットの運営者に通知済みです。後でもう一度お試しください。",
    ),
    et.ACCOUNT_LOW: (
        "Dem Konto des Bilddienstes geht das Geld aus; der Betreiber des Bots ist informiert.",
        "Le compte du service d'images s'épuise ; l'opérateur du bot est prévenu.",
        "La cuenta del servicio de imágenes se está quedando sin fondos; el operador del bot está avisado.",
        "A conta do serviço de imagens está ficando sem fundos; o operador do bot foi avisado.",
        "画像サービスのアカウント残高が不足しつつあります。ボットの運営者に通知済みです。",
    ),
    et.BLOCKED_WHY: (
        "Ein Moderator hat dich auf diesem Server vom Erzeugen von Bildern ausgeschlossen ({why}).",
        "Un modérateur vous a bloqué pour la génération d'images sur ce serveur ({why}).",
        "Un moderador te ha bloqueado para generar imágenes en este servidor ({why}).",
        "Um moderador bloqueou você de gerar imagens neste servidor ({why}).",
        "モデレーターにより、このサーバーでの画像生成がブロックされています({why})。",
    ),
    et.CHANNEL_USE: (
        "In diesem Kanal können keine Bilder erzeugt werden. Nutze {channels}.",
        "Impossible de générer des images dans ce salon. Utilisez {channels}.",
        "No se pueden generar imágenes en este canal. Usa {channels}.",
        "Não é possível gerar imagens neste canal. Use {channels}.",
        "このチャンネルでは画像を生成できません。{channels} を使ってください。",
    ),
    et.ROLE: (
        "Zum Erzeugen von Bildern brauchst du hier eine dieser Rollen: {roles}.",
        "Générer des images ici demande l'un de ces rôles : {roles}.",
        "Para generar imágenes aquí necesitas uno de estos roles: {roles}.",
        "Para gerar imagens aqui é preciso um destes cargos: {roles}.",
        "ここで画像を生成するには次のいずれかのロールが必要です: {roles}。",
    ),
    et.PRO_ROLE: (
        "FLUX.2 Pro ist hier diesen Rollen vorbehalten: {roles}. FLUX.2 Klein 9B steht dir offen.",
        "FLUX.2 Pro est réservé ici à ces rôles : {roles}. FLUX.2 Klein 9B vous est ouvert.",
        "FLUX.2 Pro está limitado aquí a estos roles: {roles}. FLUX.2 Klein 9B está abierto para ti.",
        "O FLUX.2 Pro é limitado aqui a estes cargos: {roles}. O FLUX.2 Klein 9B está liberado para você.",
        "ここではFLUX.2 Proは次のロールに限られます: {roles}。FLUX.2 Klein 9Bは使えます。",
    ),
    et.ADULT_NOWHERE: (
        "Dieser Server hält Inhalte für Erwachsene aus seinen Bildern heraus, auch in altersbeschränkten Kanälen.",
        "Ce serveur exclut les contenus adultes de ses images, salons restreints compris.",
        "Este servidor no permite contenido para adultos en sus imágenes, ni en canales restringidos.",
        "Este servidor não permite conteúdo adulto nas imagens, nem em canais restritos.",
        "このサーバーでは、年齢制限チャンネルも含めて成人向けの画像は作れません。",
    ),
    et.ADULT: (
        "Dieser Prompt verlangt Inhalte für Erwachsene. Sie sind nur in Kanälen möglich, die Discord als "
        "altersbeschränkt markiert, wenn dieser Server es dort erlaubt.",
        "Ce prompt demande un contenu adulte. Il n'est possible que dans un salon que Discord marque comme "
        "restreint, si ce serveur l'y autorise.",
        "Este prompt pide contenido para adultos. Solo se puede generar en un canal que Discord marque con "
        "restricción de edad, si este servidor lo permite allí.",
        "Este prompt pede conteúdo adulto. Ele só pode ser gerado em um canal que o Discord marca com "
        "restrição de idade, se este servidor permitir ali.",
        "このプロンプトは成人向けの内容です。Discordが年齢制限に指定したチャンネルで、サーバーが許可している場合のみ生成できます。",
    ),
    et.GUILD_TERM: (
        "Dieser Prompt enthält einen Begriff, den dieser Server sperrt (`{term}`).",
        "Ce prompt contient un terme bloqué par ce serveur (`{term}`).",
        "Este prompt contiene un término que este servidor bloquea (`{term}`).",
        "Este prompt contém um termo que este servidor bloqueia (`{term}`).",
        "このプロンプトには、このサーバーが禁止している語句が含まれています(`{term}`)。",
    ),
    et.FOREIGN: (
        "Auf diesem Server kannst du nur deine eigenen Bilder und die Ergebnisse des Bots bearbeiten.",
        "Sur ce serveur, vous ne pouvez modifier que vos images et les résultats du bot.",
        "En este servidor solo puedes editar tus propias imágenes y los resultados del bot.",
        "Neste servidor você só pode editar suas próprias imagens e os resultados do bot.",
        "このサーバーでは、自分の画像とボットの結果だけを編集できます。",
    ),
    et.RULES: (
        "Die Regeln dieses Servers erlauben diese Anfrage nicht.", "Les règles de ce serveur n'autorisent pas cette demande.",
        "Las reglas de este servidor no permiten esta solicitud.", "As regras deste servidor não permitem este pedido.",
        "このサーバーのルールではこのリクエストは許可されていません。",
    ),
    et.REFUSED: (
        "Segmind hat die Anfrage abgelehnt: {message}.", "Segmind a refusé la demande : {message}.",
        "Segmind rechazó la solicitud: {message}.", "A Segmind recusou o pedido: {message}.",
        "Segmindがリクエストを拒否しました: {message}。",
    ),
    et.MISCONFIGURED: (
        "Der Bot ist für dieses Modell falsch eingerichtet; sein Betreiber ist informiert.",
        "Le bot est mal configuré pour ce modèle ; son opérateur est prévenu.",
        "El bot está mal configurado para este modelo; su operador está avisado.",
        "O bot está mal configurado para este modelo; o operador foi avisado.",
        "このモデルのボット設定に問題があります。運営者に通知済みです。",
    ),
    et.OUT_OF_FUNDS: (
        "Das Konto des Bilddienstes des Bots hat kein Geld mehr; sein Betreiber ist informiert.",
        "Le compte du service d'images du bot n'a plus de fonds ; son opérateur est prévenu.",
        "La cuenta del servicio de imágenes del bot no tiene fondos; su operador está avisado.",
        "A conta do serviço de imagens do bot está sem fundos; o operador foi avisado.",
        "ボットの画像サービスのアカウントに残高がありません。運営者に通知済みです。",
    ),
    et.UNCERTAIN: (
        "Der Bot hat beim Senden den Kontakt zum Bilddienst verloren und weiß nicht, ob die Anfrage lief; "
        "sie wurde daher nicht wiederholt.",
        "Le bot a perdu le contact avec le service d'images pendant l'envoi et ne sait pas si la demande a "
        "abouti ; elle n'a donc pas été relancée.",
        "El bot perdió el contacto con el servicio de imágenes al enviar tu solicitud y no sabe si se "
        "ejecutó, así que no se reintentó.",
        "O bot perdeu o contato com o serviço de imagens ao enviar seu pedido e não sabe se ele rodou, "
        "então não tentou de novo.",
        "送信中に画像サービスとの接続が切れ、実行されたか分からないため、再試行していません。",
    ),
    et.EXPIRED: (
        "Der Bilddienst hat das Ergebnis dieser Anfrage nicht mehr.", "Le service d'images n'a plus le résultat de cette demande.",
        "El servicio de imágenes ya no tiene el resultado de esta solicitud.",
        "O serviço de imagens não tem mais o resultado deste pedido.", "画像サービスにこのリクエストの結果はもうありません。",
    ),
    et.BAD_OUTPUT: (
        "Der Bilddienst hat etwas geliefert, das kein brauchbares Bild ist.",
        "Le service d'images a renvoyé quelque chose qui n'est pas une image utilisable.",
        "El servicio de imágenes devolvió algo que no es una imagen utilizable.",
        "O serviço de imagens devolveu algo que não é uma imagem utilizável.", "画像サービスから使える画像が返されませんでした。",
    ),
    et.PERMISSION: (
        "Dafür brauchst du die Berechtigung {permissions}.", "Il vous faut la permission {permissions} pour ceci.",
        "Necesitas el permiso {permissions} para esto.", "Você precisa da permissão {permissions} para isto.",
        "これには {permissions} 権限が必要です。",
    ),
    et.NOT_PERMITTED: (
        "Du darfst diesen Befehl nicht verwenden.", "Vous n'avez pas le droit d'utiliser cette commande.",
        "No tienes permiso para usar este comando.", "Você não tem permissão para usar este comando.",
        "このコマンドを使う権限がありません。",
    ),
    et.UNEXPECTED: (
        "Beim Bot ist etwas schiefgelaufen. Es wurde protokolliert; bitte versuch es noch einmal.",
        "Un problème est survenu du côté du bot. Il a été consigné ; réessayez.",
        "Algo salió mal en el bot. Quedó registrado; inténtalo de nuevo.",
        "Algo deu errado no bot. Foi registrado; tente de novo.",
        "ボット側で問題が発生しました。記録済みです。もう一度お試しください。",
    ),
}
