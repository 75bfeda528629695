"""GET /v1/user/subscription and GET /v1/user: Speaker's monthly character quota and
this month's usage in ElevenLabs' subscription shape."""

from __future__ import annotations

from synthesis.models import SynthesisJob, UsageRecord
from voices.models import CloningAttestation, Voice
from voices.services.attestation import attestation_accept


def test_it_reports_the_quota_and_what_this_month_used(owner_xi, owner, settings):
    settings.QUOTA_MONTHLY_CHARACTERS = 5000
    UsageRecord.objects.create(
        job_id="00000000-0000-0000-0000-000000000001",
        user=owner,
        voice_name="joe",
        engine="piper",
        language="en",
        characters=120,
    )
    SynthesisJob.objects.create(
        owner=owner, voice_name="joe", engine="piper", language="en", text="x" * 30, character_count=30
    )
    sub = owner_xi.get("/v1/user/subscription").json()
    assert sub["character_limit"] == 5000
    assert sub["character_count"] == 150  # used, and the queued job's reservation
    assert sub["next_character_count_reset_unix"] > 0 and sub["status"] == "active"


def test_another_users_usage_is_not_mine(owner_xi, outsider):
    UsageRecord.objects.create(
        job_id="00000000-0000-0000-0000-000000000002",
        user=outsider,
        voice_name="joe",
        engine="piper",
        language="en",
        characters=999,
    )
    assert owner_xi.get("/v1/user/subscription").json()["character_count"] == 0


def test_voice_slots_count_my_clones(owner_xi, owner):
    Voice.objects.create(owner=owner, name="A", language="en", engine="xtts")
    assert owner_xi.get("/v1/user/subscription").json()["voice_slots_used"] == 1


def test_without_a_cloning_engine_cloning_is_not_offered_even_with_the_attestation(owner_xi, owner, piper_only):
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    # Piper alone cannot clone, attestation or not.
    assert owner_xi.get("/v1/user/subscription").json()["can_use_instant_voice_cloning"] is False


def test_the_user_carries_the_subscription(owner_xi, owner):
    user = owner_xi.get("/v1/user").json()
    assert user["user_id"] == str(owner.pk) and user["subscription"]["tier"] == "speaker"
    assert user["xi_api_key"] is None  # never echoed


def test_it_needs_synthesis_write(owner, xi_for):
    assert xi_for(owner, ["voices:read"]).get("/v1/user/subscription").status_code == 403
