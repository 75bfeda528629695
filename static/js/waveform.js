// A waveform drawn on a canvas from decoded audio (WebAudio), with the play position.

export class Waveform {
  constructor(canvas, audio) {
    this.canvas = canvas;
    this.audio = audio;
    this.peaks = null;
    this.frame = null;
    canvas.addEventListener("click", (event) => {
      if (!this.audio.duration || !Number.isFinite(this.audio.duration)) return;
      const rect = canvas.getBoundingClientRect();
      this.audio.currentTime = ((event.clientX - rect.left) / rect.width) * this.audio.duration;
      this.draw();
    });
    const tick = () => {
      this.draw();
      if (!this.audio.paused) this.frame = requestAnimationFrame(tick);
    };
    audio.addEventListener("play", () => {
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(tick);
    });
    ["pause", "seeked", "ended", "timeupdate"].forEach((type) => audio.addEventListener(type, () => this.draw()));
    window.addEventListener("resize", () => this.draw());
  }

  /** Min/max per column from mono samples (a Float32Array, or an AudioBuffer's channel 0). */
  setSamples(samples) {
    const columns = 600;
    const per = Math.max(1, Math.floor(samples.length / columns));
    const peaks = new Float32Array(columns * 2);
    for (let c = 0; c < columns; c += 1) {
      let min = 0;
      let max = 0;
      const start = c * per;
      const end = Math.min(samples.length, start + per);
      for (let i = start; i < end; i += 1) {
        const v = samples[i];
        if (v < min) min = v;
        if (v > max) max = v;
      }
      peaks[c * 2] = min;
      peaks[c * 2 + 1] = max;
    }
    this.peaks = peaks;
    this.draw();
  }

  async loadFrom(arrayBuffer) {
    const context = new OfflineAudioContext(1, 1, 44100);
    const buffer = await context.decodeAudioData(arrayBuffer);
    this.setSamples(buffer.getChannelData(0));
    return buffer;
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    if (!this.peaks) return;
    const columns = this.peaks.length / 2;
    const mid = height / 2;
    const played =
      this.audio.duration && Number.isFinite(this.audio.duration) ? this.audio.currentTime / this.audio.duration : 0;
    const barWidth = width / columns;
    let peak = 0.01;
    for (const v of this.peaks) peak = Math.max(peak, Math.abs(v));
    const scale = (mid * 0.92) / peak;
    for (let c = 0; c < columns; c += 1) {
      const x = c * barWidth;
      const top = mid - this.peaks[c * 2 + 1] * scale;
      const bottom = mid - this.peaks[c * 2] * scale;
      ctx.fillStyle = c / columns <= played ? "#3b5bdb" : "#9fb0f0";
      ctx.fillRect(x, top, Math.max(1, barWidth * 0.8), Math.max(1, bottom - top));
    }
    if (played > 0) {
      ctx.fillStyle = "#1b2130";
      ctx.fillRect(Math.round(played * width), 0, Math.max(1, ratio), height);
    }
  }
}
