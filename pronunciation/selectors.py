"""Reading pronunciation dictionaries, and the rules a request is spoken with."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from core.errors import ApiError
from pronunciation.models import PronunciationDictionary, PronunciationDictionaryVersion
from speech.pronunciation import Lexicon, Rule

MAX_LOCATORS = 3  # as ElevenLabs: up to three dictionaries per request, applied in order


class DictionaryNotFound(Http404):
    """A dictionary (or version) the caller cannot use: a 404 on the REST routes, the
    protocol's own "not found" on the others (a websocket names the dictionary, not a
    voice)."""


@dataclass(frozen=True)
class Locator:
    """A dictionary named by a request, at a version (None: its latest)."""

    dictionary_id: str
    version_id: str | None = None


def dictionaries_for(*, owner: User) -> QuerySet[PronunciationDictionary]:
    return PronunciationDictionary.objects.filter(owner=owner).select_related("latest_version")


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def dictionary_get(*, owner: User, dictionary_id: str) -> PronunciationDictionary:
    """The owner's dictionary; another account's is as missing as one that never was."""
    pk = _uuid(dictionary_id)
    dictionary = dictionaries_for(owner=owner).filter(pk=pk).first() if pk else None
    if dictionary is None:
        raise DictionaryNotFound(f"No pronunciation dictionary {dictionary_id!r}.")
    return dictionary


def version_get(*, dictionary: PronunciationDictionary, version_id: str | None) -> PronunciationDictionaryVersion:
    if version_id is None:
        if dictionary.latest_version is None:
            raise DictionaryNotFound("The dictionary has no version.")
        return dictionary.latest_version
    pk = _uuid(version_id)
    version = dictionary.versions.filter(pk=pk).first() if pk else None
    if version is None:
        raise DictionaryNotFound(f"Pronunciation dictionary {dictionary.pk} has no version {version_id!r}.")
    return version


def version_rules(version: PronunciationDictionaryVersion) -> list[Rule]:
    return list(Lexicon.from_list(version.rules).rules)


def lexicon_for_request(*, owner: User, locators: Sequence[Locator] | None) -> Lexicon:
    """The rules a request is spoken with: its dictionaries in order (the first rule
    for a grapheme wins), or, when it names none, the account's default dictionary.
    An empty list names none: no rules. A dictionary or version the owner does not have
    is a 404, as if missing."""
    if locators is None:
        default = dictionaries_for(owner=owner).filter(is_default=True).first()
        if default is None or default.latest_version is None:
            return Lexicon()
        return Lexicon(version_rules(default.latest_version))
    if len(locators) > MAX_LOCATORS:
        raise ApiError(
            f"At most {MAX_LOCATORS} pronunciation dictionaries per request; {len(locators)} were given.",
            details={"pronunciation_dictionary_locators": [f"At most {MAX_LOCATORS}."]},
        )
    rules: list[Rule] = []
    for locator in locators:
        dictionary = dictionary_get(owner=owner, dictionary_id=locator.dictionary_id)
        rules.extend(version_rules(version_get(dictionary=dictionary, version_id=locator.version_id)))
    return Lexicon(rules)


def locators_from(value: object, *, field: str = "pronunciation_dictionary_locators") -> list[Locator] | None:
    """Locators as clients send them: [{"pronunciation_dictionary_id", "version_id"?}];
    None when the field is absent. A 400 for anything else."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ApiError(f"{field} must be a list.", details={field: ["A list of locators."]})
    if len(value) > MAX_LOCATORS:
        raise ApiError(
            f"At most {MAX_LOCATORS} pronunciation dictionaries per request; {len(value)} were given.",
            details={field: [f"At most {MAX_LOCATORS}."]},
        )
    locators: list[Locator] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("pronunciation_dictionary_id"), str):
            raise ApiError(
                'Each locator is {"pronunciation_dictionary_id": ..., "version_id": ...}.',
                details={field: ["pronunciation_dictionary_id is required."]},
            )
        version = item.get("version_id")
        if version is not None and not isinstance(version, str):
            raise ApiError("version_id must be a string.", details={field: ["version_id must be a string."]})
        locators.append(Locator(item["pronunciation_dictionary_id"], version or None))
    return locators
