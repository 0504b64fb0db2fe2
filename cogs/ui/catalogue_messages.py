"""Translations of cogs/ui/messages.py's fixed sentences and of a quote's card (cogs/ui/quote_texts.py),
in catalogue.LOCALES' order. Where a sentence is sent is up to its caller: `tr(messages.X, locale)`."""

from __future__ import annotations

from cogs.ui import messages as m
from cogs.ui import quote_texts as q

MESSAGES: dict[str, tuple[str, str, str, str, str]] = {
    m.DM_FALLBACK: (
        "Dein Bild aus {channel} konnte dort nicht gepostet werden, deshalb kommt es hier.",
        "Votre image de {channel} n'a pas pu y être publiée, la voici.",
        "Tu imagen de {channel} no se pudo publicar allí, así que aquí está.",
        "Sua imagem de {channel} não pôde ser postada lá, então aqui está.",
        "{channel} の画像をそこに投稿できなかったので、こちらに送ります。",
    ),
    m.MISCONFIGURED: (
        "Der Bot ist für dieses Modell falsch eingerichtet; sein Betreiber ist informiert. Dir wurde nichts berechnet.",
        "Le bot est mal configuré pour ce modèle ; son opérateur est prévenu. Rien ne vous a été facturé.",
        "El bot está mal configurado para este modelo; su operador está avisado. No se te ha cobrado nada.",
        "O bot está mal configurado para este modelo; o operador foi avisado. Nada foi cobrado.",
        "このモデルのボット設定に問題があります。運営者に通知済みです。料金はかかっていません。",
    ),
    m.DELETED: ("Gelöscht.", "Supprimé.", "Borrado.", "Apagado.", "削除しました。"),
    m.EDIT_NEEDS_IMAGE: (
        "Diese Nachricht hat kein PNG-, JPEG- oder WebP-Bild zum Bearbeiten.",
        "Ce message n'a pas d'image PNG, JPEG ou WebP à modifier.",
        "Ese mensaje no tiene una imagen PNG, JPEG o WebP para editar.",
        "Essa mensagem não tem imagem PNG, JPEG ou WebP para editar.",
        "このメッセージには編集できるPNG、JPEG、WebPの画像がありません。",
    ),
    m.HELD_FOR_REVIEW: (
        "🕵️ Dein Bild wartet auf die Freigabe durch einen Moderator.", "🕵️ Votre image attend l'approbation d'un modérateur.",
        "🕵️ Tu imagen espera la aprobación de un moderador.", "🕵️ Sua imagem aguarda a aprovação de um moderador.",
        "🕵️ 画像はモデレーターの承認待ちです。",
    ),
    m.HELD_NO_MODLOG: (
        "🕵️ Dein Bild wartet auf die Freigabe durch einen Moderator, aber das Mod-Log dieses Servers nimmt es gerade "
        "nicht an, daher wird es nicht gepostet. Bitte einen Moderator, eines einzurichten (`/config modlog`).",
        "🕵️ Votre image attend l'approbation d'un modérateur, mais le journal de modération de ce serveur ne peut pas "
        "la recevoir : elle n'est pas publiée. Demandez à un modérateur d'en créer un (`/config modlog`).",
        "🕵️ Tu imagen espera la aprobación de un moderador, pero el registro de moderación de este servidor no puede "
        "recibirla ahora, así que no se publica. Pide a un moderador que configure uno (`/config modlog`).",
        "🕵️ Sua imagem aguarda a aprovação de um moderador, mas o registro de moderação deste servidor não pode "
        "recebê-la agora, então ela não é postada. Peça a um moderador para configurar um (`/config modlog`).",
        "🕵️ 画像はモデレーターの承認待ちですが、このサーバーのモデレーションログが今は受け取れないため投稿されません。"
        "モデレーターに設定を依頼してください(`/config modlog`)。",
    ),
    m.REQUEST_PENDING: (
        "🕵️ Deine Anfrage wartet auf die Freigabe durch einen Moderator. Berechnet wird nur, wenn sie freigegeben wird.",
        "🕵️ Votre demande attend l'approbation d'un modérateur. Rien n'est facturé sauf si elle est approuvée.",
        "🕵️ Tu solicitud espera la aprobación de un moderador. No se cobra nada salvo que se apruebe.",
        "🕵️ Seu pedido aguarda a aprovação de um moderador. Nada é cobrado a menos que seja aprovado.",
        "🕵️ リクエストはモデレーターの承認待ちです。承認されない限り料金はかかりません。",
    ),
    m.REQUEST_NO_MODLOG: (
        "🕵️ Anfragen brauchen hier die Freigabe eines Moderators, aber das Mod-Log dieses Servers nimmt sie gerade "
        "nicht an. Bitte einen Moderator, eines einzurichten (`/config modlog`). Dir wurde nichts berechnet.",
        "🕵️ Ici, les demandes doivent être approuvées par un modérateur, mais le journal de modération ne peut pas "
        "les recevoir. Demandez à un modérateur d'en créer un (`/config modlog`). Rien ne vous a été facturé.",
        "🕵️ Aquí las solicitudes necesitan la aprobación de un moderador, pero el registro de moderación no puede "
        "recibirlas ahora. Pide a un moderador que configure uno (`/config modlog`). No se te cobró nada.",
        "🕵️ Aqui os pedidos precisam da aprovação de um moderador, mas o registro de moderação não pode recebê-los "
        "agora. Peça a um moderador para configurar um (`/config modlog`). Nada foi cobrado de você.",
        "🕵️ ここではリクエストにモデレーターの承認が必要ですが、モデレーションログが今は受け取れません。"
        "モデレーターに設定を依頼してください(`/config modlog`)。料金はかかっていません。",
    ),
    m.REQUEST_REJECTED: (
        "🚫 Ein Moderator hat diese Anfrage abgelehnt. Dir wurde nichts berechnet.",
        "🚫 Un modérateur a refusé cette demande. Rien ne vous a été facturé.",
        "🚫 Un moderador rechazó esta solicitud. No se te cobró nada.",
        "🚫 Um moderador recusou este pedido. Nada foi cobrado de você.",
        "🚫 モデレーターがこのリクエストを却下しました。料金はかかっていません。",
    ),
    m.RESULT_APPROVED: (
        "✅ Ein Moderator hat dein Bild freigegeben; es ist im Kanal gepostet.",
        "✅ Un modérateur a approuvé votre image ; elle est publiée dans le salon.",
        "✅ Un moderador aprobó tu imagen; está publicada en el canal.",
        "✅ Um moderador aprovou sua imagem; ela está postada no canal.",
        "✅ モデレーターが画像を承認し、チャンネルに投稿されました。",
    ),
    m.RESULT_REJECTED: (
        "🚫 Ein Moderator hat dieses Bild nicht freigegeben.", "🚫 Un modérateur n'a pas approuvé cette image.",
        "🚫 Un moderador no aprobó esta imagen.", "🚫 Um moderador não aprovou esta imagem.",
        "🚫 モデレーターはこの画像を承認しませんでした。",
    ),
    m.RESULT_HIDDEN: (
        "🙈 Dieses Bild wurde nach Meldungen verborgen und wartet auf einen Moderator.",
        "🙈 Cette image a été masquée après des signalements et attend un modérateur.",
        "🙈 Esta imagen se ocultó tras denuncias y espera a un moderador.",
        "🙈 Esta imagem foi ocultada após denúncias e aguarda um moderador.",
        "🙈 この画像は通報により非表示になり、モデレーターの判断待ちです。",
    ),
    m.RESULT_REMOVED: (
        "🗑️ Dieses Bild wurde von einem Moderator entfernt.", "🗑️ Cette image a été retirée par un modérateur.",
        "🗑️ Un moderador retiró esta imagen.", "🗑️ Esta imagem foi removida por um moderador.",
        "🗑️ この画像はモデレーターにより削除されました。",
    ),
    m.REPORTED: (
        "Danke, die Moderatoren sind informiert.", "Merci, les modérateurs ont été prévenus.",
        "Gracias, los moderadores están avisados.", "Obrigado, os moderadores foram avisados.",
        "ありがとうございます。モデレーターに伝えました。",
    ),
    m.ALREADY_REPORTED: (
        "Du hast dieses Bild schon gemeldet.", "Vous avez déjà signalé cette image.", "Ya denunciaste esta imagen.",
        "Você já denunciou esta imagem.", "この画像はすでに通報済みです。",
    ),
    m.NO_MODLOG: (
        "Dieser Server hat noch keinen Mod-Log-Kanal (`/config modlog`), daher wurden die Moderatoren nicht informiert.",
        "Ce serveur n'a pas encore de salon de journal de modération (`/config modlog`) : les modérateurs n'ont pas été prévenus.",
        "Este servidor aún no tiene canal de registro de moderación (`/config modlog`), así que no se avisó a los moderadores.",
        "Este servidor ainda não tem canal de registro de moderação (`/config modlog`), então os moderadores não foram avisados.",
        "このサーバーにはまだモデレーションログのチャンネルがないため(`/config modlog`)、モデレーターに通知されていません。",
    ),
    m.QUOTE_CONFIRMED: ("Bestätigt.", "Confirmé.", "Confirmado.", "Confirmado.", "確認しました。"),
    m.QUOTE_CANCELLED: (
        "Abgebrochen. Es wurde nichts berechnet.", "Annulé. Rien n'a été facturé.", "Cancelado. No se cobró nada.",
        "Cancelado. Nada foi cobrado.", "キャンセルしました。料金はかかっていません。",
    ),
    m.QUOTE_USED: (
        "Dieses Angebot wurde schon beantwortet.", "Ce devis a déjà reçu une réponse.", "Este presupuesto ya se respondió.",
        "Este orçamento já foi respondido.", "この見積もりにはすでに回答済みです。",
    ),
    # --- a quote's card ---
    q.TITLE: ("{model}: {price} Credits", "{model} : {price} crédits", "{model}: {price} créditos",
              "{model}: {price} créditos", "{model}: {price}クレジット"),
    q.NOTHING_RESERVED: (
        "Bis zu deiner Bestätigung wird nichts reserviert.", "Rien n'est réservé avant votre confirmation.",
        "No se reserva nada hasta que confirmes.", "Nada é reservado até você confirmar.", "確認するまで何も予約されません。",
    ),
    q.SERVER_BALANCE: ("Guthaben des Servers", "Solde du serveur", "Saldo del servidor", "Saldo do servidor", "サーバーの残高"),
    q.AVAILABLE: ("{credits} Credits verfügbar", "{credits} crédits disponibles", "{credits} créditos disponibles",
                  "{credits} créditos disponíveis", "利用可能: {credits}クレジット"),
    q.ALLOWANCE_TODAY: ("Dein Kontingent heute", "Votre quota aujourd'hui", "Tu cupo hoy", "Sua cota hoje", "今日の利用枠"),
    q.ALLOWANCE_MONTH: ("Dein Kontingent diesen Monat", "Votre quota ce mois-ci", "Tu cupo este mes", "Sua cota este mês",
                        "今月の利用枠"),
    q.LEFT: ("{credits} Credits übrig", "{credits} crédits restants", "quedan {credits} créditos",
             "restam {credits} créditos", "残り{credits}クレジット"),
    q.ON_KLEIN: ("Mit FLUX.2 Klein 9B", "Avec FLUX.2 Klein 9B", "Con FLUX.2 Klein 9B", "Com FLUX.2 Klein 9B", "FLUX.2 Klein 9Bなら"),
    q.CREDITS: ("{credits} Credits", "{credits} crédits", "{credits} créditos", "{credits} créditos", "{credits}クレジット"),
    q.CONFIRM: ("Bestätigen", "Confirmer", "Confirmar", "Confirmar", "確認"),
    q.USE_KLEIN: ("Stattdessen Klein", "Utiliser Klein", "Usar Klein", "Usar o Klein", "Kleinにする"),
    q.CANCEL: ("Abbrechen", "Annuler", "Cancelar", "Cancelar", "キャンセル"),
}
