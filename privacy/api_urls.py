from django.urls import path

from privacy import api

urlpatterns = [
    path("account/exports", api.ExportListCreateView.as_view(), name="api-exports"),
    path("account/exports/<uuid:export_id>", api.ExportDetailView.as_view(), name="api-export-detail"),
    path("account/exports/<uuid:export_id>/download", api.ExportDownloadView.as_view(), name="api-export-download"),
    path("account/erase", api.AccountEraseView.as_view(), name="api-account-erase"),
]
