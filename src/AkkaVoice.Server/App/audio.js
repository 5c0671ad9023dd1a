// Audio for the voice app: the microphone to Opus packets (WebCodecs AudioEncoder, 48 kHz mono, 20 ms),
// and Opus packets from each speaker back to sound (AudioDecoder per speaker, a small jitter buffer,
// mixed in one Web Audio context).

export const SAMPLE_RATE = 48000;
const FRAME_US = 20000;
const JITTER_DELAY = 0.06; // seconds of audio held back per speaker before it plays
const MAX_AHEAD = 0.3;     // a speaker further ahead than this is reset (late packets piled up)

export function audioSupported() {
  return typeof AudioEncoder === 'function' && typeof AudioDecoder === 'function' && !!navigator.mediaDevices?.getUserMedia;
}

/** Mono Float32 samples of an AudioData at 48 kHz (channel 0, linearly resampled when needed). */
function monoSamples(data) {
  const samples = new Float32Array(data.numberOfFrames);
  data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
  return data.sampleRate === SAMPLE_RATE ? samples : resample(samples, data.sampleRate);
}

function resample(samples, rate) {
  const out = new Float32Array(Math.round(samples.length * SAMPLE_RATE / rate));
  const step = rate / SAMPLE_RATE;
  for (let i = 0; i < out.length; i++) {
    const x = i * step, j = Math.floor(x), f = x - j;
    out[i] = (samples[j] ?? 0) * (1 - f) + (samples[j + 1] ?? samples[j] ?? 0) * f;
  }
  return out;
}

export function sumOfSquares(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return sum;
}

/** Opus, 48 kHz mono, 32 kb/s, 20 ms packets; without the frame duration where a browser does not take it (its default is 20 ms). */
async function encoderConfig() {
  const config = { codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1, bitrate: 32000 };
  const exact = { ...config, opus: { frameDuration: FRAME_US } };
  try {
    if ((await AudioEncoder.isConfigSupported(exact)).supported) return exact;
  } catch { /* an older browser that rejects the opus member */ }
  return config;
}

/** The microphone as Opus packets: `onPacket(Uint8Array)` for each 20 ms frame, `onSamples(Float32Array)` for its level, while not muted. */
export class Microphone {
  constructor(onPacket, onSamples) {
    this.onPacket = onPacket;
    this.onSamples = onSamples;
    this.muted = false;
    this.stream = null;
    this.encoder = null;
    this.timestamp = 0;
    this.stopped = false;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, sampleRate: SAMPLE_RATE, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    this.encoder = new AudioEncoder({
      output: chunk => {
        const packet = new Uint8Array(chunk.byteLength);
        chunk.copyTo(packet);
        if (!this.muted && !this.stopped) this.onPacket(packet);
      },
      error: e => console.error('audio encoder:', e),
    });
    this.encoder.configure(await encoderConfig());
    const track = this.stream.getAudioTracks()[0];
    if (typeof MediaStreamTrackProcessor === 'function') this.#readTrack(track);
    else this.#processWithWebAudio();
  }

  async #readTrack(track) {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    while (!this.stopped) {
      const { value, done } = await reader.read();
      if (done) break;
      const samples = monoSamples(value);
      value.close();
      this.#encode(samples);
    }
  }

  // Browsers without MediaStreamTrackProcessor (Firefox): raw samples from a ScriptProcessor. The context runs
  // at the device's rate, because Firefox cannot connect a microphone to a context of another rate; the
  // samples are resampled to 48 kHz here.
  #processWithWebAudio() {
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(this.stream);
    const processor = this.context.createScriptProcessor(1024, 1, 1);
    processor.onaudioprocess = e => {
      const input = e.inputBuffer.getChannelData(0);
      this.#encode(e.inputBuffer.sampleRate === SAMPLE_RATE ? new Float32Array(input) : resample(input, e.inputBuffer.sampleRate));
    };
    source.connect(processor);
    processor.connect(this.context.destination);
  }

  #encode(samples) {
    if (this.stopped || this.encoder.state !== 'configured' || samples.length === 0) return;
    if (!this.muted) this.onSamples?.(samples);
    const data = new AudioData({ format: 'f32-planar', sampleRate: SAMPLE_RATE, numberOfFrames: samples.length, numberOfChannels: 1, timestamp: this.timestamp, data: samples });
    this.timestamp += Math.round(samples.length * 1e6 / SAMPLE_RATE);
    this.encoder.encode(data);
    data.close();
  }

  stop() {
    this.stopped = true;
    this.stream?.getTracks().forEach(t => t.stop());
    if (this.encoder?.state === 'configured') this.encoder.close();
    this.context?.close();
  }
}

/** Every speaker's packets decoded and mixed; `onDecoded(member, samples)` for each decoded frame. */
export class Mixer {
  constructor(onDecoded) {
    this.onDecoded = onDecoded;
    this.context = new AudioContext({ sampleRate: SAMPLE_RATE, latencyHint: 'interactive' });
    this.speakers = new Map();
  }

  /** Resumes audio output (browsers start it suspended until the user clicks). */
  resume() { if (this.context.state === 'suspended') this.context.resume().catch(() => {}); }

  play(member, packet) {
    let speaker = this.speakers.get(member);
    if (!speaker) {
      speaker = this.#speaker(member);
      this.speakers.set(member, speaker);
    }
    if (speaker.decoder.state !== 'configured') return;
    speaker.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: speaker.timestamp, data: packet }));
    speaker.timestamp += FRAME_US;
  }

  #speaker(member) {
    const gain = this.context.createGain();
    gain.connect(this.context.destination);
    const speaker = { gain, playhead: 0, timestamp: 0, decoder: null };
    speaker.decoder = new AudioDecoder({
      output: data => {
        const samples = monoSamples(data);
        data.close();
        this.onDecoded(member, samples);
        this.#schedule(speaker, samples);
      },
      error: e => console.error(`audio decoder of member ${member}:`, e),
    });
    speaker.decoder.configure({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1 });
    return speaker;
  }

  // The jitter buffer: each speaker plays JITTER_DELAY behind the first frame of a burst; frames that
  // come late are played back to back, and a speaker that falls too far behind starts over.
  #schedule(speaker, samples) {
    const now = this.context.currentTime;
    if (speaker.playhead < now || speaker.playhead > now + MAX_AHEAD) speaker.playhead = now + JITTER_DELAY;
    const buffer = this.context.createBuffer(1, samples.length, SAMPLE_RATE);
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(speaker.gain);
    source.start(speaker.playhead);
    speaker.playhead += buffer.duration;
  }

  forget(member) {
    const speaker = this.speakers.get(member);
    if (!speaker) return;
    this.speakers.delete(member);
    if (speaker.decoder.state !== 'closed') speaker.decoder.close();
    speaker.gain.disconnect();
  }

  close() {
    for (const member of [...this.speakers.keys()]) this.forget(member);
    this.context.close();
  }
}
