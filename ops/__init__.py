"""Operations at the top layer: health and readiness, the JSON /metrics and Prometheus
views, and the scrape-time gauges that read every app's tables (docs/ARCHITECTURE.md)."""
