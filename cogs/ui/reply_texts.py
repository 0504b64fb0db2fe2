"""Sentences of /credits-admin, /settings, /mine, /queue, Info, the result buttons and the /config
confirmations (cogs/config_texts.py has /config show's card), translated in
cogs/ui/catalogue_replies2.py. Replies go out in the reader's language (`tr(X, interaction.locale)`),
a public message's in the server's (the job's `spec.locale`); the mod log stays English."""

from __future__ import annotations

# --- /credits-admin --------------------------------------------------------------------------------
ALLOWANCE_REMOVED = "Allowance removed."
NO_SUCH_ALLOWANCE = "There was no such allowance."
HISTORY_TITLE = "Credit history"
NO_MOVEMENTS = "No credit movements match."
NEWER = "◀ Newer"
OLDER = "Older ▶"
EXPORT_TOO_BIG = (
    "The export is {size} MiB compressed, over this server's {limit} MiB upload limit: export a shorter period"
    " with `since` and `until`."
)
EXPORT_COUNT = "{count} ledger entries."
EXPORT_FILE = "This server's credit ledger as gzipped CSV, oldest first"
# The chart's own title stays English: its font has no glyphs for every language.
USAGE_FILE = "Chart of credits spent per day over 30 days, by model"

# --- /settings -------------------------------------------------------------------------------------
SETTINGS_MODEL = "**Model:** {value}"
SETTINGS_RATIO = "**Aspect ratio:** {value}"
SETTINGS_STYLE = "**Style:** {value}"
SETTINGS_SPOILER = "**Spoiler:** {value}"
SETTINGS_PRIVATE = "**Private results:** {value}"
SETTINGS_NOT_ALLOWED = " (this server does not allow them: results are public)"
SERVER_DEFAULT = "server default"
MODEL_DEFAULT = "model default"
NONE = "none"
YES = "yes"
NO = "no"

# --- /queue, /mine, Info, /help ----------------------------------------------------------------------
QUEUE_LINE = "`{job}` {prompt}: {state} ({where})"
GENERATING = "generating"
NEXT = "next"
AHEAD = "{count} ahead"
# The states /queue shows, as words (core/jobs.py JobState values).
STATES = ("queued", "submitting", "submitted")
MINE_HINT = "-# /show job_id brings one back."
MODEL = "Model"
STYLE = "Style"
JOB = "Job {job}"
HELP_TITLE = "Image bot"
STYLES_TITLE = "Styles of this server"
PRESENTATION = (
    "PNG text metadata (prompt, seed, model): {png}. Spoiler in age-restricted channels: {spoiler}. "
    "Private results: {private}."
)
ON = "on"
OFF = "off"  # translated with /config's word choices
ALLOWED = "allowed"
NOT_ALLOWED = "not allowed"

# --- the result buttons (public: the server's language) -----------------------------------------------
REROLL = "Reroll"
EDIT = "Edit"
FINALIZE = "Finalize with Pro"
DELETE = "Delete"
REPORT = "Report"
INFO = "Info"

# --- the Edit modal ------------------------------------------------------------------------------------
MODAL_TITLE = "Edit with FLUX"
WHAT_CHANGES = "What should change?"
UP_TO_REFERENCES = "up to {count} reference images"
IMAGES_HERE = "{images} image(s) here; Klein uses the first {klein}, Pro up to {pro}"

# --- an image that reached no one: its requester is told (in the server's language) ----------------------
UNDELIVERABLE = (
    "Your image (job #{job}) is ready and paid for, but it could not be posted in {channel} nor sent to you {how}. "
    "It is kept safe: a bot owner can send it again with `/owner redeliver job_id:{job}` (allow DMs from this "
    "server's members, or ask a moderator to let the bot post in that channel, first)."
)
HERE = "here"
BY_DM = "by DM"

# --- a moderator's click on a request someone else already decided -----------------------------------
ALREADY_DECIDED = "Someone already decided this request."

# --- /config's confirmations (the mod log gets the English) -------------------------------------------
CHANGED_LIST = "{list}: {action} {target}"
# The lists CHANGED_LIST names, as words.
LISTS = ("channels", "roles", "pro roles", "exempt roles", "trusted roles")
CHANGED_FILTER = "filter: {action} {count} term(s)"
CHANGED_SAFETY = "safety: ordinary {ordinary}, age-restricted {age_restricted}"
ADULT_EVERYWHERE = "adult content refused in every channel"
ADULT_ORDINARY_ONLY = "adult content refused in ordinary channels only"
OTHERS_ALLOWED = "editing others' images: allowed"
OTHERS_NOT_ALLOWED = "editing others' images: not allowed"
PACE_UPDATED = "pace limits updated"
CHANGED_REVIEW = "review in {channel}: {mode}"
MODLOG_SET = "mod log: {channel}"
MODLOG_OFF = "mod log: off (review turned off)"
CHANGED_REPORTS = "reports hide a result at {threshold}"
