"""Sentences of /privacy and /mod (cogs/privacy.py, cogs/moderation.py), translated in
cogs/ui/catalogue_replies.py; each is sent in the reader's language (`tr(text, interaction.locale)`)."""

from __future__ import annotations

FORGET_ASK = (
    "This removes the prompts of all your finished images and the images the bot stores for you, in every server. "
    "Posted messages stay in Discord (delete them there). Credits spent stay on the server's books without your "
    "name. It cannot be undone."
)
FORGETTING = "Forgetting…"
FORGOTTEN = "Done: {prompts} prompt(s) and {images} stored image(s) removed."
KEPT_FOR_REVIEW = "{count} result(s) held for moderator review are kept until a moderator decides."
ID_STAYS = (
    "Your id stays on the spending records of the last {days} days (spending limits count them) and is erased "
    "when they are that old."
)
NOTHING_REMOVED = "Nothing was removed."
FORGET_BUTTON = "Forget my data"
CANCEL = "Cancel"
SUMMARY = (
    "**What the bot keeps about you**\n"
    "- Your prompts and your user id on each job: {prompts}, then erased.\n"
    "- The images it made or you attached: {images} (longer while not yet delivered or held for review).\n"
    "- What you spent, on the server's books: kept, without your id after the same period.\n"
    "- If the bot leaves this server, its data is removed {grace} days later.\n"
    "`/privacy forget` removes your prompts and images now."
)
DAYS = "{days} days"
UNTIL_ASKED = "until you ask"
BLOCKED = "Blocked {member} from generating images."
UNBLOCKED = "Unblocked {member}."
NOT_BLOCKED = "{member} was not blocked."
