"""OpenAPI description of `GET /api/v1/health` (the view returns the selector's dict as
is; these serializers document its shape)."""

from __future__ import annotations

from rest_framework import serializers


class CpuSerializer(serializers.Serializer):
    percent = serializers.FloatField(help_text="Utilisation since the previous reading.")
    count = serializers.IntegerField()
    load_average = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class MemorySerializer(serializers.Serializer):
    total_bytes = serializers.IntegerField()
    used_bytes = serializers.IntegerField()
    available_bytes = serializers.IntegerField()
    percent = serializers.FloatField()


class DiskSerializer(serializers.Serializer):
    path = serializers.CharField(
        required=False, help_text="MEDIA_ROOT: where audio and samples are stored (staff only)."
    )
    total_bytes = serializers.IntegerField()
    used_bytes = serializers.IntegerField()
    free_bytes = serializers.IntegerField()
    percent = serializers.FloatField()


class SystemSerializer(serializers.Serializer):
    cpu = CpuSerializer()
    memory = MemorySerializer()
    disk = DiskSerializer()


class GpuDeviceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    name = serializers.CharField()
    uuid = serializers.CharField(allow_null=True)
    memory_used_bytes = serializers.IntegerField(allow_null=True)
    memory_total_bytes = serializers.IntegerField(allow_null=True)
    utilization_percent = serializers.IntegerField(allow_null=True)
    temperature_celsius = serializers.IntegerField(allow_null=True)


class GpuSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["available", "not available"])
    reason = serializers.CharField(required=False, allow_null=True, help_text="Why not, when not available.")
    driver_version = serializers.CharField(required=False, allow_null=True)
    devices = GpuDeviceSerializer(many=True)


class WorkerEngineSerializer(serializers.Serializer):
    name = serializers.CharField()
    available = serializers.BooleanField()
    loaded = serializers.BooleanField(help_text="Loaded now (false once unloaded when idle).")
    load_seconds = serializers.FloatField(allow_null=True)
    loaded_at = serializers.DateTimeField(allow_null=True, help_text="When the model was last loaded.")
    device = serializers.CharField(allow_null=True)


class EngineWorkerReportSerializer(WorkerEngineSerializer):
    name = None  # type: ignore[assignment]
    worker_id = serializers.CharField(required=False, help_text="Staff only.")


class EngineHealthSerializer(serializers.Serializer):
    name = serializers.CharField()
    available = serializers.BooleanField(help_text="Can run with this process's settings.")
    reason = serializers.CharField(allow_null=True)
    loaded = serializers.BooleanField(help_text="Loaded in this process (web processes usually load none).")
    load_seconds = serializers.FloatField(allow_null=True)
    loaded_at = serializers.DateTimeField(
        allow_null=True, help_text="When this process last loaded the model (kept once it is unloaded)."
    )
    unloaded_at = serializers.DateTimeField(
        allow_null=True, help_text="When this process last unloaded it (idle unloading), if it has."
    )
    idle_unload_seconds = serializers.FloatField(
        allow_null=True, help_text="ENGINE_IDLE_UNLOAD_SECONDS: a model idle this long is unloaded; null: off."
    )
    device = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    clones = serializers.BooleanField()
    loaded_in_workers = serializers.IntegerField()
    workers = EngineWorkerReportSerializer(many=True, help_text="What each live engine worker reports.")


class VoicesSerializer(serializers.Serializer):
    """For staff every voice; for anyone else the built-in voices and their own."""

    total = serializers.IntegerField()
    active = serializers.IntegerField(help_text="Ready to speak.")
    builtin = serializers.IntegerField()
    custom = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class QueueSerializer(serializers.Serializer):
    """For staff every job; for anyone else their own jobs."""

    depth = serializers.IntegerField(help_text="Jobs waiting.")
    running = serializers.IntegerField()
    oldest_queued_at = serializers.DateTimeField(allow_null=True)
    oldest_age_seconds = serializers.FloatField(help_text="0 when the queue is empty.")


class WorkerSerializer(serializers.Serializer):
    worker_id = serializers.CharField(required=False, help_text="Staff only.")
    hostname = serializers.CharField(required=False, help_text="Staff only.")
    pid = serializers.IntegerField(required=False, help_text="Staff only.")
    started_at = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    age_seconds = serializers.FloatField()
    fresh = serializers.BooleanField(help_text="Heartbeat newer than WORKER_HEARTBEAT_MAX_AGE.")
    alive = serializers.BooleanField(help_text="Fresh, or still renewing the lease of the job it runs.")
    busy = serializers.BooleanField()
    jobs_done = serializers.IntegerField()
    engines = WorkerEngineSerializer(many=True)


class WorkersSerializer(serializers.Serializer):
    alive = serializers.IntegerField()
    total = serializers.IntegerField()
    heartbeat_max_age_seconds = serializers.IntegerField()
    embedded = serializers.BooleanField()
    items = WorkerSerializer(many=True)


class HealthDetailSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"], help_text="degraded: no live engine worker.")
    version = serializers.CharField()
    time = serializers.DateTimeField()
    system = SystemSerializer()
    gpu = GpuSerializer()
    engines = EngineHealthSerializer(many=True)
    voices = VoicesSerializer()
    queue = QueueSerializer()
    workers = WorkersSerializer()
