"""Voice-like recordings made in memory, and the measures the voice tests take on them.

A vowel is a glottal pulse train (a sawtooth rich in harmonics, at the speaker's pitch) through
the resonances of the vocal tract (formants, here second-order resonators at /a/'s 700, 1220
and 2600 Hz). Real phone containers are produced by FFmpeg's own encoders through PyAV.
"""
import io

import av
import numpy as np

VOWEL_A = ((700, 110), (1220, 120), (2600, 160))


def _resonate(signal: np.ndarray, rate: int, centre: float, bandwidth: float) -> np.ndarray:
    """A two-pole resonator, applied as a convolution with its (truncated) impulse response."""
    radius = np.exp(-np.pi * bandwidth / rate)
    a1, a2 = -2 * radius * np.cos(2 * np.pi * centre / rate), radius * radius
    # The impulse response of the resonator, long enough to have died out, then convolution.
    length = int(rate * 0.05)
    response = np.zeros(length)
    response[0] = 1.0
    response[1] = -a1
    for n in range(2, length):
        response[n] = -a1 * response[n - 1] - a2 * response[n - 2]
    return np.convolve(signal, response)[:len(signal)]


def vowel(f0: float = 120.0, seconds: float = 3.0, rate: int = 16_000,
          formants=VOWEL_A) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    pulses = 2 * ((t * f0) % 1.0) - 1  # sawtooth: every harmonic, falling as 1/h
    voiced = pulses
    for centre, bandwidth in formants:
        voiced = _resonate(voiced, rate, centre, bandwidth)
    voiced *= 0.5 / np.max(np.abs(voiced))
    return voiced.astype(np.float32)


# container format, codec, sample rate of the codec, file name
CONTAINERS = {
    "m4a": ("mp4", "aac", 44_100),
    "mp3": ("mp3", "libmp3lame", 44_100),
    "ogg": ("ogg", "libopus", 48_000),
    "webm": ("webm", "libopus", 48_000),
    "wav": ("wav", "pcm_s16le", 16_000),
    "amr": ("amr", "libopencore_amrnb", 8_000),
}
TAGS = {"title": "TITLUMARCAJ", "artist": "ARTISTMARCAJ", "location": "+47.1585+027.6014/"}


class _Pipe:
    """A destination FFmpeg cannot seek back into, as a browser recording streams its file:
    the muxer then leaves the duration out of the header."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data) -> int:
        return self.buffer.write(data)

    def getvalue(self) -> bytes:
        return self.buffer.getvalue()


def encode(samples: np.ndarray, rate: int, kind: str, tags: dict | None = None, *,
           live: bool = False) -> bytes:
    """`samples` (mono float32 at `rate`) as a real file of `kind` (a key of CONTAINERS);
    `live`: written as it is recorded, without going back to fill in the header."""
    container_format, codec_name, codec_rate = CONTAINERS[kind]
    target = _Pipe() if live else io.BytesIO()
    with av.open(target, mode="w", format=container_format) as container:
        container.metadata.update(tags or {})
        stream = container.add_stream(codec_name, rate=codec_rate, layout="mono")
        if codec_name == "libopencore_amrnb":
            stream.bit_rate = 12_200
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono",
                                      rate=codec_rate)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1),
                                           format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(piece):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return target.getvalue()


def decode(data: bytes, rate: int = 16_000) -> tuple[np.ndarray, str, dict, dict]:
    """Samples, codec name, container tags and stream tags of an output file."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [out.to_ndarray().reshape(-1)
                  for frame in container.decode(stream) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
        return (np.concatenate(chunks), stream.codec_context.name, dict(container.metadata),
                dict(stream.metadata))


def fundamental(samples: np.ndarray, rate: int, low: float = 50, high: float = 500) -> float:
    """F0 by autocorrelation of the middle second: the shortest lag whose peak comes within
    10 % of the highest (a periodic signal repeats at every multiple of its period too), refined
    by a parabola through that peak."""
    middle = len(samples) // 2
    segment = samples[middle - rate // 2:middle + rate // 2].astype(np.float64)
    segment = (segment - segment.mean()) * np.hanning(len(segment))
    spectrum = np.fft.rfft(segment, n=2 * len(segment))
    correlation = np.fft.irfft(np.abs(spectrum) ** 2)[:len(segment)]
    shortest, longest = int(rate / high), int(rate / low)
    window = correlation[shortest:longest + 1]
    peaks = np.flatnonzero((window[1:-1] > window[:-2]) & (window[1:-1] >= window[2:])) + 1
    lag = shortest + int(next(p for p in peaks if window[p] >= 0.9 * window[peaks].max()))
    before, peak, after = correlation[lag - 1:lag + 2]
    return rate / (lag + 0.5 * (before - after) / (before - 2 * peak + after))


def formants(samples: np.ndarray, rate: int, order: int = 14) -> list[float]:
    """Resonance frequencies (Hz, ascending, above 200 Hz and narrower than 400 Hz) by linear
    prediction of the middle second: the textbook estimator, independent of how the disguise
    measures its envelope."""
    middle = len(samples) // 2
    segment = samples[middle - rate // 2:middle + rate // 2].astype(np.float64)
    segment = np.append(segment[0], segment[1:] - 0.63 * segment[:-1]) * np.hamming(len(segment))
    correlation = np.correlate(segment, segment, "full")[len(segment) - 1:][:order + 1]
    toeplitz = correlation[np.abs(np.subtract.outer(np.arange(order), np.arange(order)))]
    predictor = np.linalg.solve(toeplitz, correlation[1:order + 1])
    roots = np.roots(np.concatenate([[1.0], -predictor]))
    roots = roots[np.imag(roots) > 0]
    frequencies = np.angle(roots) * rate / (2 * np.pi)
    bandwidths = -np.log(np.abs(roots)) * rate / np.pi
    return sorted(float(f) for f, b in zip(frequencies, bandwidths, strict=True)
                  if f > 200 and b < 400)


def webm_film(speech: np.ndarray, rate: int) -> bytes:
    """A webm with moving pictures and a sound track, as a phone's screen recorder makes."""
    target = io.BytesIO()
    with av.open(target, mode="w", format="webm") as container:
        video = container.add_stream("libvpx", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("libopus", rate=48_000, layout="mono")
        for index in range(10):
            picture = np.full((48, 64, 3), index * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        resampler = av.AudioResampler(format=sound.codec_context.format.name, layout="mono",
                                      rate=48_000)
        frame = av.AudioFrame.from_ndarray(speech.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for piece in resampler.resample(frame) + resampler.resample(None):
            for packet in sound.encode(piece):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    return target.getvalue()
