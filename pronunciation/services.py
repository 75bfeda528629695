"""Writing pronunciation dictionaries: create (from rules or a PLS file), add and remove
rules (each change a new version), make one the account's default, delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.errors import ApiError, PayloadTooLarge
from monitoring.services import audit_record
from pronunciation.models import PronunciationDictionary, PronunciationDictionaryVersion
from pronunciation.pls import PlsError, parse_pls
from speech.pronunciation import Lexicon, Rule, RuleError


def rules_from_dicts(items: Any) -> list[Rule]:
    """Rules as the API sends them (ElevenLabs' shape), or a 400 naming the bad one."""
    if isinstance(items, list) and all(isinstance(item, Rule) for item in items):
        _check_count(len(items))
        return list(items)  # read already (pronunciation.serializers.RuleField)
    if not isinstance(items, list):
        raise ApiError("rules must be a list of rules.", details={"rules": ["A list."]})
    rules: list[Rule] = []
    for index, item in enumerate(items):
        try:
            rules.append(Rule.from_dict(item))
        except RuleError as exc:
            raise ApiError(
                f"Rule {index}: {exc.message}", details={f"rules[{index}].{exc.field}": [exc.message]}
            ) from exc
    _check_count(len(rules))
    return rules


def read_limit() -> int:
    """How much of an upload to read: one byte past the cap, so an oversized file is
    refused without reading all of it."""
    return settings.PRONUNCIATION_MAX_FILE_BYTES + 1


def rules_from_pls(data: bytes) -> list[Rule]:
    limit = settings.PRONUNCIATION_MAX_FILE_BYTES
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The lexicon file is {len(data)} bytes; at most {limit} are accepted (PRONUNCIATION_MAX_FILE_BYTES).",
            details={"file": [f"At most {limit} bytes."], "limit": limit},
        )
    try:
        return parse_pls(data, max_rules=settings.PRONUNCIATION_MAX_RULES)
    except PlsError as exc:
        raise ApiError(exc.message, code="invalid_lexicon", details={"file": [exc.message]}) from exc


def _check_count(count: int) -> None:
    limit = settings.PRONUNCIATION_MAX_RULES
    if count > limit:
        raise ApiError(
            f"A dictionary holds at most {limit} rules (PRONUNCIATION_MAX_RULES); this one would hold {count}.",
            details={"rules": [f"At most {limit} rules."], "limit": limit},
        )


def _new_version(dictionary: PronunciationDictionary, rules: Iterable[Rule]) -> PronunciationDictionaryVersion:
    lexicon = Lexicon(rules)
    _check_count(len(lexicon))
    number = 1 + (dictionary.latest_version.number if dictionary.latest_version else 0)
    version = PronunciationDictionaryVersion.objects.create(
        dictionary=dictionary, number=number, rules=lexicon.to_list()
    )
    dictionary.latest_version = version
    dictionary.save(update_fields=["latest_version"])
    return version


@transaction.atomic
def dictionary_create(
    *, owner: User, name: str, description: str = "", rules: list[Rule], is_default: bool = False
) -> PronunciationDictionary:
    if is_default:
        PronunciationDictionary.objects.filter(owner=owner, is_default=True).update(is_default=False)
    dictionary = PronunciationDictionary.objects.create(
        owner=owner, name=name, description=description, is_default=is_default
    )
    _new_version(dictionary, rules)
    audit_record(
        action="pronunciation_dictionary.created",
        user=owner,
        target_type="pronunciation_dictionary",
        target_id=str(dictionary.pk),
        details={"rules": len(rules)},
    )
    return dictionary


def _locked(dictionary: PronunciationDictionary) -> PronunciationDictionary:
    """The dictionary's row, locked (its latest version read with it, not locked: on
    PostgreSQL a lock cannot reach the nullable side of the outer join)."""
    return (
        PronunciationDictionary.objects.select_for_update(of=("self",))
        .select_related("latest_version")
        .get(pk=dictionary.pk)
    )


def _current_rules(dictionary: PronunciationDictionary) -> list[Rule]:
    version = dictionary.latest_version
    return list(Lexicon.from_list(version.rules if version else []).rules)


@transaction.atomic
def dictionary_add_rules(*, dictionary: PronunciationDictionary, rules: list[Rule]) -> PronunciationDictionaryVersion:
    """A new version: the new rules replace older ones for the same grapheme."""
    dictionary = _locked(dictionary)
    graphemes = {rule.grapheme for rule in rules}
    kept = [rule for rule in _current_rules(dictionary) if rule.grapheme not in graphemes]
    return _new_version(dictionary, [*kept, *rules])


@transaction.atomic
def dictionary_remove_rules(
    *, dictionary: PronunciationDictionary, graphemes: list[str]
) -> PronunciationDictionaryVersion:
    dictionary = _locked(dictionary)
    gone = set(graphemes)
    return _new_version(dictionary, [rule for rule in _current_rules(dictionary) if rule.grapheme not in gone])


@transaction.atomic
def dictionary_update(*, dictionary: PronunciationDictionary, changes: Mapping[str, Any]) -> PronunciationDictionary:
    """Name, description, and whether it is the account's default."""
    dictionary = _locked(dictionary)
    if changes.get("is_default"):
        PronunciationDictionary.objects.filter(owner=dictionary.owner, is_default=True).exclude(
            pk=dictionary.pk
        ).update(is_default=False)
    for name in ("name", "description", "is_default"):
        if name in changes:
            setattr(dictionary, name, changes[name])
    dictionary.save(update_fields=["name", "description", "is_default"])
    return dictionary


def dictionary_delete(*, dictionary: PronunciationDictionary) -> None:
    dictionary_id = str(dictionary.pk)
    owner = dictionary.owner
    dictionary.delete()
    audit_record(
        action="pronunciation_dictionary.deleted",
        user=owner,
        target_type="pronunciation_dictionary",
        target_id=dictionary_id,
    )
