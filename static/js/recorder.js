// Recording a voice sample in the page: getUserMedia + MediaRecorder (WebM/Opus, which
// the server accepts), with a live level meter and duration.

const PREFERRED_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus"];

export function recordingSupported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
}

export class Recorder {
  /** `onLevel(level 0..1, seconds)` is called about 20 times a second while recording. */
  constructor({ onLevel, maxSeconds = 30, onAutoStop } = {}) {
    this.onLevel = onLevel || (() => {});
    this.onAutoStop = onAutoStop || (() => {});
    this.maxSeconds = maxSeconds;
    this.stream = null;
    this.recorder = null;
    this.chunks = [];
    this.context = null;
    this.timer = null;
    this.startedAt = 0;
  }

  get recording() {
    return Boolean(this.recorder && this.recorder.state === "recording");
  }

  get seconds() {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: true, channelCount: 1 },
    });
    const mimeType = PREFERRED_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) this.chunks.push(event.data);
    });
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(this.stream);
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const buffer = new Float32Array(analyser.fftSize);
    this.recorder.start(250);
    this.startedAt = performance.now();
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(buffer);
      let sum = 0;
      for (const value of buffer) sum += value * value;
      const rms = Math.sqrt(sum / buffer.length);
      // -60 dBFS .. 0 dBFS onto 0..1: quiet speech sits around the middle.
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      const level = Math.min(1, Math.max(0, (db + 60) / 60));
      this.onLevel(level, this.seconds);
      if (this.seconds >= this.maxSeconds) this.onAutoStop();
    }, 50);
  }

  /** Stop and resolve to {blob, seconds, type}. */
  stop() {
    return new Promise((resolve) => {
      const seconds = this.seconds;
      clearInterval(this.timer);
      this.timer = null;
      const finish = () => {
        const type = (this.recorder && this.recorder.mimeType) || "audio/webm";
        const blob = new Blob(this.chunks, { type });
        this.release();
        resolve({ blob, seconds, type });
      };
      if (this.recorder && this.recorder.state !== "inactive") {
        this.recorder.addEventListener("stop", finish, { once: true });
        this.recorder.stop();
      } else {
        finish();
      }
    });
  }

  release() {
    clearInterval(this.timer);
    this.timer = null;
    this.startedAt = 0;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
    this.recorder = null;
  }
}

export function formatClock(seconds) {
  const whole = Math.max(0, seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, "0")}`;
}
