"""SQLite's schema, in order: the DDL of every owner's tables (core/pg_migrations.py derives
PostgreSQL's from it). Each entry names its owner."""

from __future__ import annotations

# Forward-only. Each entry is applied in one transaction together with its user_version bump.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        # 1: credits (owned by core/ledger.py)
        """CREATE TABLE guild_credits (
            guild_id INTEGER PRIMARY KEY,
            balance INTEGER NOT NULL CHECK (balance >= 0),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
            created_at REAL NOT NULL,
            CHECK (reserved <= balance)
        )""",
        """CREATE TABLE reservations (
            job_id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0),
            state TEXT NOT NULL CHECK (state IN ('held', 'captured', 'released')),
            created_at REAL NOT NULL,
            settled_at REAL
        )""",
        """CREATE TABLE ledger_entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'capture', 'release', 'refund')),
            amount INTEGER NOT NULL,
            balance_after INTEGER NOT NULL,
            job_id INTEGER,
            user_id INTEGER,
            reason TEXT,
            created_at REAL NOT NULL
        )""",
        # A job can be reserved, captured, released and refunded at most once each.
        "CREATE UNIQUE INDEX ledger_once_per_job ON ledger_entries (job_id, kind) WHERE job_id IS NOT NULL",
        "CREATE INDEX ledger_by_guild ON ledger_entries (guild_id, id)",
        "CREATE INDEX ledger_by_user ON ledger_entries (guild_id, user_id, kind, created_at)",
        # Append-only: the database itself refuses edits and deletions of ledger entries.
        """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
        """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END""",
        # jobs (owned by core/jobs.py)
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            parent_job_id INTEGER REFERENCES jobs(id),
            model TEXT NOT NULL,
            spec TEXT NOT NULL,
            price INTEGER NOT NULL,
            state TEXT NOT NULL,
            request_id TEXT,
            application_id INTEGER,
            interaction_token TEXT,
            interaction_at REAL,
            upload_limit INTEGER,
            progress_message_id INTEGER,
            result_blob TEXT,
            result_mime TEXT,
            result_seed INTEGER,
            cost_usd REAL,
            result_channel_id INTEGER,
            result_message_id INTEGER,
            error_kind TEXT,
            error_detail TEXT,
            notified INTEGER NOT NULL DEFAULT 0,
            delivery_attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX jobs_unfinished ON jobs (state) WHERE state NOT IN ('posted', 'refunded', 'undeliverable')",
        "CREATE INDEX jobs_by_guild ON jobs (guild_id, id)",
        # small key/value store (owned by core/db_shared.py)
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # 2: moderation (owned by core/moderation.py)
        """CREATE TABLE guild_policies (
            guild_id INTEGER PRIMARY KEY,
            policy TEXT NOT NULL,
            updated_by INTEGER,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE member_blocks (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            reason TEXT,
            blocked_by INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        )""",
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            job_id INTEGER NOT NULL,
            reporter_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (job_id, reporter_id)
        )""",
        """CREATE TABLE result_reviews (
            job_id INTEGER PRIMARY KEY,
            guild_id INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('visible', 'hidden', 'removed', 'held', 'approved', 'rejected')),
            decided_by INTEGER,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE review_requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            spec TEXT NOT NULL,
            application_id INTEGER,
            interaction_token TEXT,
            interaction_at REAL,
            progress_message_id INTEGER,
            upload_limit INTEGER,
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
            decided_by INTEGER,
            job_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX reports_by_job ON reports (job_id)",
    ),
    (
        # 3: spending rules (owned by core/credit_rules.py)
        """CREATE TABLE allowances (
            guild_id INTEGER NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('member', 'role')),
            target_id INTEGER NOT NULL,
            daily INTEGER CHECK (daily >= 0),
            monthly INTEGER CHECK (monthly >= 0),
            unlimited INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (guild_id, scope, target_id)
        )""",
        """CREATE TABLE credit_settings (
            guild_id INTEGER PRIMARY KEY,
            quote_above INTEGER,
            confirm_all INTEGER NOT NULL DEFAULT 0,
            low_balance_below INTEGER,
            low_balance_alerted INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX reservations_by_member ON reservations (guild_id, user_id, created_at)",
    ),
    (
        # 4: a member's pace (core/jobs.py member_usage_in), read inside the job-creating transaction
        "CREATE INDEX jobs_by_member ON jobs (guild_id, user_id, created_at, state)",
        "CREATE INDEX jobs_member_running ON jobs (guild_id, user_id)"
        " WHERE state IN ('queued', 'submitting', 'submitted', 'succeeded')",
    ),
    (
        # 5: privacy (owned by core/privacy.py): departures, forget requests, an anonymisable ledger
        "CREATE TABLE guild_departures (guild_id INTEGER PRIMARY KEY, left_at REAL NOT NULL)",
        "CREATE TABLE forget_requests (user_id INTEGER PRIMARY KEY, requested_at REAL NOT NULL)",
        "DROP TRIGGER ledger_no_update",
        # Still append-only for the books: an update may only erase who (user_id) and why (reason).
        """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries
           WHEN NEW.id IS NOT OLD.id OR NEW.guild_id IS NOT OLD.guild_id OR NEW.kind IS NOT OLD.kind
             OR NEW.amount IS NOT OLD.amount OR NEW.balance_after IS NOT OLD.balance_after
             OR NEW.job_id IS NOT OLD.job_id OR NEW.created_at IS NOT OLD.created_at
             OR (NEW.user_id IS NOT OLD.user_id AND NEW.user_id IS NOT NULL)
             OR (NEW.reason IS NOT OLD.reason AND NEW.reason IS NOT NULL)
           BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only (only user_id and reason may be erased)'); END""",
    ),
    (
        # 6: members' own things: server styles (core/styles.py), personal defaults
        # (core/preferences.py), and /mine's keyset pages over a member's results (core/jobs.py)
        """CREATE TABLE guild_styles (
            guild_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            template TEXT NOT NULL CHECK (instr(template, '{prompt}') > 0),
            created_by INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (guild_id, name)
        )""",
        """CREATE TABLE member_preferences (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            prefs TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        )""",
        "CREATE INDEX jobs_member_results ON jobs (guild_id, user_id, id) WHERE result_blob IS NOT NULL",
        # quotes waiting for the member's answer (core/quotes.py): the buttons work after a restart
        """CREATE TABLE quotes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count BETWEEN 1 AND 4),
            spec TEXT NOT NULL,
            parent_job_id INTEGER,
            reference_authors TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'answered')),
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE guild_presentation (
            guild_id INTEGER PRIMARY KEY,
            png_metadata INTEGER NOT NULL DEFAULT 1,
            spoiler_age_restricted INTEGER NOT NULL DEFAULT 0,
            private_results INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL
        )""",
    ),
    (
        # 7: the jobs Segmind still owes an answer (core/jobs.py count_waiting, in_flight_by_model, read
        # by every /imagine before its acknowledgement): a small partial index instead of a scan of
        # every job ever made. Its WHERE is the queries' own, so the planner can prove it applies.
        "CREATE INDEX jobs_in_flight ON jobs (guild_id, model) WHERE state IN ('queued', 'submitting', 'submitted')",
    ),
    (
        # 8: the images of one command shown in one message (core/batches.py)
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            size INTEGER NOT NULL CHECK (size BETWEEN 2 AND 10),
            state TEXT NOT NULL
                CHECK (state IN ('creating', 'open', 'delivering', 'posted', 'undeliverable', 'abandoned')),
            stop_note TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            channel_id INTEGER,
            message_id INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX batches_by_state ON batches (state)",
        """CREATE TABLE batch_jobs (
            job_id INTEGER PRIMARY KEY,
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            number INTEGER NOT NULL,
            UNIQUE (batch_id, number)
        )""",
    ),
    (
        # 9: several processes on one database (issue "Past one process"): IDENTIFY slots per bucket
        # (core/shards.py), chores run by one process at a time (core/chores.py), and job leases with a
        # fence (core/leases.py: who runs a job, until when, and which claim of it is current)
        "CREATE TABLE identify_slots (bucket INTEGER PRIMARY KEY, last_at REAL NOT NULL)",
        "CREATE TABLE chore_leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL)",
        "ALTER TABLE jobs ADD COLUMN owner TEXT",
        "ALTER TABLE jobs ADD COLUMN lease_until REAL",
        "ALTER TABLE jobs ADD COLUMN fence INTEGER NOT NULL DEFAULT 0",
        # the queue every process admits from (core/shared_queue.py): when a job was handed to a
        # process, each guild's last turn of the round-robin, and the key's window (core/shared_window.py)
        "ALTER TABLE jobs ADD COLUMN dispatched_at REAL",
        "CREATE TABLE guild_turns (guild_id INTEGER PRIMARY KEY, turn INTEGER NOT NULL)",
        "CREATE TABLE rate_slots (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " taken_at REAL NOT NULL, answered_at REAL)",
        "CREATE INDEX jobs_leases ON jobs (owner, lease_until)"
        " WHERE state NOT IN ('posted', 'refunded', 'undeliverable') OR (state = 'refunded' AND notified = 0)",
    ),
]
