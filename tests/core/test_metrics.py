from yarl import URL

from core.metrics import Metrics, discord_route


def test_discord_routes_carry_no_ids_and_no_interaction_tokens():
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZg"
    assert discord_route(URL(f"http://x/api/v10/interactions/1200000000000000099/{token}/callback")) == (
        "/api/v10/interactions/:id/:token/callback"
    )
    assert discord_route(URL(f"http://x/api/v10/webhooks/1100000000000000001/{token}/messages/@original")) == (
        "/api/v10/webhooks/:id/:token/messages/@original"
    )
    assert discord_route(URL("http://x/api/v10/channels/1200000000000000011/messages")) == (
        "/api/v10/channels/:id/messages"
    )


def test_each_process_has_its_own_registry():
    a, b = Metrics(), Metrics()
    a.credits_spent.inc(3)
    assert a.registry.get_sample_value("flux_credits_spent_total") == 3
    assert b.registry.get_sample_value("flux_credits_spent_total") == 0
