"""The scale harness (issue "Past one process"): several unmodified bot processes over shard ranges
against one PostgreSQL, thousands of guilds on the fake Discord, one Segmind key's limit over a
scaled window, a process killed and another paused past its lease; every figure is computed from
the database and the fakes' logs. `python -m tests.scale --json PATH` (see __main__)."""
