from django.urls import path

from pronunciation import api

urlpatterns = [
    path("pronunciation-dictionaries", api.DictionaryListCreateView.as_view(), name="pronunciation-dictionaries"),
    path(
        "pronunciation-dictionaries/from-file",
        api.DictionaryFromFileView.as_view(),
        name="pronunciation-dictionary-from-file",
    ),
    path(
        "pronunciation-dictionaries/<str:dictionary_id>",
        api.DictionaryDetailView.as_view(),
        name="pronunciation-dictionary",
    ),
    path(
        "pronunciation-dictionaries/<str:dictionary_id>/add-rules",
        api.RulesAddView.as_view(),
        name="pronunciation-dictionary-add-rules",
    ),
    path(
        "pronunciation-dictionaries/<str:dictionary_id>/remove-rules",
        api.RulesRemoveView.as_view(),
        name="pronunciation-dictionary-remove-rules",
    ),
    path(
        "pronunciation-dictionaries/<str:dictionary_id>/versions/<str:version_id>/pls",
        api.VersionPlsView.as_view(),
        name="pronunciation-dictionary-pls",
    ),
]
