"""Translations of /privacy's and /mod's replies (cogs/ui/privacy_texts.py), in catalogue.LOCALES' order."""

from __future__ import annotations

from cogs.ui import privacy_texts as p

REPLIES: dict[str, tuple[str, str, str, str, str]] = {
    p.FORGET_ASK: (
        "Das entfernt die Prompts all deiner fertigen Bilder und die Bilder, die der Bot für dich speichert, auf "
        "allen Servern. Gepostete Nachrichten bleiben in Discord (lösche sie dort). Ausgegebene Credits bleiben "
        "ohne deinen Namen in den Büchern des Servers. Das lässt sich nicht rückgängig machen.",
        "Cela supprime les prompts de toutes vos images terminées et les images que le bot garde pour vous, sur "
        "tous les serveurs. Les messages publiés restent sur Discord (supprimez-les là). Les crédits dépensés "
        "restent dans les comptes du serveur, sans votre nom. C'est irréversible.",
        "Esto borra los prompts de todas tus imágenes terminadas y las imágenes que el bot guarda para ti, en "
        "todos los servidores. Los mensajes publicados siguen en Discord (bórralos allí). Los créditos gastados "
        "quedan en las cuentas del servidor sin tu nombre. No se puede deshacer.",
        "Isto apaga os prompts de todas as suas imagens prontas e as imagens que o bot guarda para você, em todos "
        "os servidores. As mensagens postadas ficam no Discord (apague-as lá). Os créditos gastos ficam nas "
        "contas do servidor sem o seu nome. Não dá para desfazer.",
        "完成したすべての画像のプロンプトと、ボットが保存している画像を、すべてのサーバーで削除します。"
        "投稿済みのメッセージはDiscordに残ります(そちらで削除してください)。使ったクレジットは名前なしで"
        "サーバーの記録に残ります。元に戻せません。",
    ),
    p.FORGETTING: ("Wird vergessen…", "Suppression…", "Olvidando…", "Esquecendo…", "削除中…"),
    p.FORGOTTEN: (
        "Erledigt: {prompts} Prompt(s) und {images} gespeicherte(s) Bild(er) entfernt.",
        "Terminé : {prompts} prompt(s) et {images} image(s) stockée(s) supprimé(s).",
        "Hecho: se borraron {prompts} prompt(s) y {images} imagen(es) guardada(s).",
        "Pronto: {prompts} prompt(s) e {images} imagem(ns) guardada(s) removidos.",
        "完了: プロンプト{prompts}件と保存画像{images}件を削除しました。",
    ),
    p.KEPT_FOR_REVIEW: (
        "{count} Ergebnis(se) in Moderationsprüfung bleiben, bis ein Moderator entscheidet.",
        "{count} résultat(s) en attente de modération sont gardés jusqu'à la décision d'un modérateur.",
        "{count} resultado(s) en revisión se conservan hasta que decida un moderador.",
        "{count} resultado(s) em revisão ficam guardados até um moderador decidir.",
        "審査中の結果{count}件は、モデレーターが判断するまで保持されます。",
    ),
    p.ID_STAYS: (
        "Deine ID bleibt auf den Ausgabeeinträgen der letzten {days} Tage (Ausgabelimits zählen sie) und wird "
        "gelöscht, sobald sie so alt sind.",
        "Votre id reste sur les dépenses des {days} derniers jours (les limites de dépense les comptent) et est "
        "effacé quand elles ont cet âge.",
        "Tu id sigue en los registros de gasto de los últimos {days} días (los límites de gasto los cuentan) y "
        "se borra cuando tienen esa antigüedad.",
        "Seu id fica nos registros de gastos dos últimos {days} dias (os limites de gasto contam com eles) e é "
        "apagado quando atingem essa idade.",
        "あなたのIDは過去{days}日間の支出記録に残り(支出上限の計算に使われます)、その期間を過ぎると消去されます。",
    ),
    p.NOTHING_REMOVED: ("Es wurde nichts entfernt.", "Rien n'a été supprimé.", "No se borró nada.", "Nada foi removido.",
                        "何も削除されていません。"),
    p.FORGET_BUTTON: ("Meine Daten vergessen", "Oublier mes données", "Olvidar mis datos", "Esquecer meus dados",
                      "データを削除"),
    p.SUMMARY: (
        "**Was der Bot über dich speichert**\n"
        "- Deine Prompts und deine Nutzer-ID an jedem Auftrag: {prompts}, dann gelöscht.\n"
        "- Die Bilder, die er erzeugt hat oder die du angehängt hast: {images} (länger, solange sie nicht "
        "zugestellt oder in Prüfung sind).\n"
        "- Was du ausgegeben hast, in den Büchern des Servers: bleibt, nach derselben Zeit ohne deine ID.\n"
        "- Verlässt der Bot diesen Server, werden dessen Daten {grace} Tage später entfernt.\n"
        "`/privacy forget` entfernt deine Prompts und Bilder sofort.",
        "**Ce que le bot garde sur vous**\n"
        "- Vos prompts et votre id utilisateur sur chaque tâche : {prompts}, puis effacés.\n"
        "- Les images créées ou que vous avez jointes : {images} (plus longtemps si pas encore livrées ou en "
        "modération).\n"
        "- Ce que vous avez dépensé, dans les comptes du serveur : gardé, sans votre id après la même durée.\n"
        "- Si le bot quitte ce serveur, ses données sont supprimées {grace} jours plus tard.\n"
        "`/privacy forget` supprime vos prompts et images maintenant.",
        "**Lo que el bot guarda sobre ti**\n"
        "- Tus prompts y tu id de usuario en cada trabajo: {prompts}, luego se borran.\n"
        "- Las imágenes que creó o que adjuntaste: {images} (más tiempo si aún no se entregaron o están en "
        "revisión).\n"
        "- Lo que gastaste, en las cuentas del servidor: se guarda, sin tu id tras el mismo periodo.\n"
        "- Si el bot deja este servidor, sus datos se borran {grace} días después.\n"
        "`/privacy forget` borra tus prompts e imágenes ahora.",
        "**O que o bot guarda sobre você**\n"
        "- Seus prompts e seu id de usuário em cada trabalho: {prompts}, depois apagados.\n"
        "- As imagens que ele fez ou que você anexou: {images} (mais tempo se ainda não entregues ou em revisão).\n"
        "- O que você gastou, nas contas do servidor: guardado, sem o seu id após o mesmo período.\n"
        "- Se o bot sair deste servidor, os dados dele são apagados {grace} dias depois.\n"
        "`/privacy forget` apaga seus prompts e imagens agora.",
        "**ボットが保存するあなたの情報**\n"
        "- 各ジョブのプロンプトとユーザーID: {prompts}、その後消去。\n"
        "- 作成した画像や添付した画像: {images}(未配信や審査中の間はそれ以上)。\n"
        "- サーバーの記録上の支出: 保持されますが、同じ期間の後はIDなし。\n"
        "- ボットがこのサーバーを離れると、{grace}日後にデータが削除されます。\n"
        "`/privacy forget` でプロンプトと画像を今すぐ削除できます。",
    ),
    p.DAYS: ("{days} Tage", "{days} jours", "{days} días", "{days} dias", "{days}日間"),
    p.UNTIL_ASKED: ("bis du es verlangst", "jusqu'à votre demande", "hasta que lo pidas", "até você pedir", "削除を依頼するまで"),
    p.BLOCKED: (
        "{member} ist vom Erzeugen von Bildern ausgeschlossen.", "{member} est bloqué pour la génération d'images.",
        "{member} quedó bloqueado para generar imágenes.", "{member} foi bloqueado de gerar imagens.",
        "{member} の画像生成をブロックしました。",
    ),
    p.UNBLOCKED: ("{member} ist entsperrt.", "{member} est débloqué.", "{member} quedó desbloqueado.",
                  "{member} foi desbloqueado.", "{member} のブロックを解除しました。"),
    p.NOT_BLOCKED: ("{member} war nicht gesperrt.", "{member} n'était pas bloqué.", "{member} no estaba bloqueado.",
                    "{member} não estava bloqueado.", "{member} はブロックされていませんでした。"),
}
