// Playing a pcm stream as it arrives (the Generate page reads the audio lines of
// POST /api/v1/synthesis/stream/with-timings): s16le mono chunks at X-Sample-Rate,
// scheduled back to back on an AudioContext, which Pause suspends.

export class PcmStreamPlayer {
  /** Create it inside the click handler: browsers only start audio after a gesture. */
  constructor() {
    this.context = new AudioContext();
    this.nextTime = 0;
    this.rate = 0;
    this.leftover = null;
    this.chunks = [];
    this.samples = 0;
    this.sources = new Set();
    this.startedAt = null;
  }

  get secondsReceived() {
    return this.rate ? this.samples / this.rate : 0;
  }

  get secondsPlayed() {
    return this.startedAt === null ? 0 : Math.max(0, this.context.currentTime - this.startedAt);
  }

  /** Play s16le bytes after what was pushed before (a chunk may end mid-sample). */
  push(bytes) {
    let data = bytes;
    if (this.leftover) {
      data = new Uint8Array(this.leftover.length + bytes.length);
      data.set(this.leftover);
      data.set(bytes, this.leftover.length);
      this.leftover = null;
    }
    const usable = data.length - (data.length % 2);
    if (usable < data.length) this.leftover = data.slice(usable);
    if (!usable) return;
    const view = new DataView(data.buffer, data.byteOffset, usable);
    const floats = new Float32Array(usable / 2);
    for (let i = 0; i < floats.length; i += 1) floats[i] = view.getInt16(i * 2, true) / 32768;
    this.chunks.push(floats);
    this.samples += floats.length;
    const buffer = this.context.createBuffer(1, floats.length, this.rate);
    buffer.copyToChannel(floats, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    if (this.nextTime < now + 0.05) this.nextTime = now + 0.12; // (re)start with a little headroom
    if (this.startedAt === null) this.startedAt = this.nextTime;
    source.start(this.nextTime);
    this.nextTime += buffer.duration;
    this.sources.add(source);
    source.addEventListener("ended", () => this.sources.delete(source));
  }

  get paused() {
    return this.context.state !== "running";
  }

  pause() {
    return this.context.suspend();
  }

  resume() {
    return this.context.resume();
  }

  /** Every sample received so far, as one Float32Array (for the waveform). */
  allSamples() {
    const out = new Float32Array(this.samples);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  stop() {
    for (const source of this.sources) {
      try {
        source.stop();
      } catch {
        /* already stopped */
      }
    }
    this.sources.clear();
    this.context.close().catch(() => {});
  }
}
