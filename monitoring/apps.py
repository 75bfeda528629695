from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"

    def ready(self) -> None:
        from monitoring import checks  # noqa: F401  (registers the system checks)
        from monitoring.collectors import refresh_gauges_in_own_thread
        from monitoring.metrics import set_scrape_refresher

        # The engine worker's metrics port (monitoring.metrics.serve_worker_metrics)
        # refreshes the state gauges before each scrape, as the web's /prometheus does.
        set_scrape_refresher(refresh_gauges_in_own_thread)
