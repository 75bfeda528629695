"""MAX_TEXT_LENGTH counts what is spoken and billed (no emotion tags, a run of spaces as
one): the count the dashboard's counter shows. The raw text may be twice as long."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_tags_do_not_count_toward_the_limit(post_job, settings):
    settings.MAX_TEXT_LENGTH = 20
    assert post_job("(happy) Hello there, friend.").status_code == 202  # 20 spoken, 28 raw


def test_one_spoken_character_over_is_refused_naming_the_count(post_job, settings):
    settings.MAX_TEXT_LENGTH = 20
    response = post_job("(happy) Hello there, friends.")  # 21 spoken

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith(
        "Text is 21 characters (emotion tags and extra spaces not counted); the limit is 20."
    )
    assert error["details"]["limit"] == 20


def test_raw_text_over_twice_the_limit_is_refused(post_job, settings):
    settings.MAX_TEXT_LENGTH = 20
    response = post_job("Hello" + " " * 40 + "there.")  # 12 spoken, 51 raw

    assert response.status_code == 400
    assert "at most 40" in response.json()["error"]["message"]
