from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"

    def ready(self) -> None:
        from monitoring.metrics import set_scrape_refresher
        from ops.collectors import refresh_gauges_in_own_thread

        # The engine worker's metrics port (monitoring.metrics.serve_worker_metrics)
        # refreshes the state gauges before each scrape, as the web's /prometheus does.
        set_scrape_refresher(refresh_gauges_in_own_thread)
