"""The voice disguise: pitch and formants moved independently, duration and words kept.

A voice is recognised by two things a listener hears at once: its pitch (how fast the vocal
folds vibrate, the fundamental frequency F0 and its harmonics) and its timbre (the resonances
of the speaker's throat and mouth, the formants, which shape the spectral envelope). The words
live mostly in how the formants move over time, not in where they sit. So the disguise moves
both, by fixed factors, and keeps every timing:

1. Short-time Fourier transform: 64 ms Hann windows every 16 ms (75 % overlap), so that the
   harmonics of a low male voice (~100 Hz) are resolved (bin spacing 15.6 Hz at 16 kHz).
2. In each window the log magnitude is split into a smooth **spectral envelope** (the
   formants) and the remaining **excitation** (the harmonic comb of the pitch). The envelope
   is a "true envelope" (Röbel & Rodet 2005): cepstral smoothing keeping quefrencies below
   half the window's pitch period (read from its cepstral peak), repeated with every bin
   raised to the curve, so that the curve rests on the harmonic peaks.
3. The excitation is resampled along frequency by the pitch ratio r = 2^(semitones / 12): the
   output bin k takes the excitation of input bin k / r, so every harmonic h·F0 moves to
   h·r·F0. Its phase comes from a phase vocoder: the instantaneous frequency of the source
   bin (measured from the phase advance between two windows) is multiplied by r and
   accumulated window after window, so the shifted harmonics stay continuous sinusoids.
   Bins near one spectral peak take that peak's phase plus their original offset from it
   ("identity phase locking", Laroche & Dolson 1999), which keeps the sound from going hollow.
4. The envelope is warped on its own by the formant factor f: bin k takes the envelope of bin
   k / f, as if the vocal tract were 1/f times as long.
5. Excitation × envelope goes back through the inverse transform and overlap-add with the
   same hop, so the duration is exactly the input's; the result is normalised below clipping.

With the defaults (4 semitones down, formants × 0.87) a voice sounds like that of a larger,
different person while the words, carried by how the formants move, stay clear.
The transform is not a cipher: someone who knows the factors can partly undo it, which is why
the factors are settings, not constants in the code. Everything happens on arrays in memory.
"""
import numpy as np

N_FFT = 1024
HOP = N_FFT // 4
# The envelope keeps quefrencies below half the pitch period, within these bounds.
MIN_ORDER_SECONDS = 0.0012
MAX_ORDER_SECONDS = 0.0050
TRUE_ENVELOPE_ROUNDS = 4
# Windows processed at a time: the working arrays stay at tens of MB whatever the length.
BLOCK_FRAMES = 512
_TINY = 1e-7
_WINDOW_GAIN = 1.5  # sum of squared periodic Hann windows at 75 % overlap


def _periodic_hann() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def _warp_indices(bins: int, factor: float) -> tuple[np.ndarray, ...]:
    """For output bin k: the two neighbouring input bins around k / factor, the weight of the
    upper one, and whether k / factor still lies inside the spectrum."""
    source = np.arange(bins) / factor
    inside = source <= bins - 1
    source = np.minimum(source, bins - 1)
    lower = np.floor(source).astype(np.intp)
    upper = np.minimum(lower + 1, bins - 1)
    return lower, upper, (source - lower).astype(np.float32), inside


def _warp(values: np.ndarray, indices, outside: float) -> np.ndarray:
    lower, upper, weight, inside = indices
    warped = values[:, lower] * (1 - weight) + values[:, upper] * weight
    return np.where(inside, warped, outside)


def _cepstral_order(cepstrum: np.ndarray, rate: int) -> np.ndarray:
    """Per window, how many cepstral coefficients the envelope may keep: half the pitch
    period (the true-envelope rule, Röbel & Rodet 2005), the period read from the strongest
    cepstral peak between 2.5 and 20 ms (pitches of 50 to 400 Hz)."""
    shortest, longest = int(rate * 0.0025), int(rate * 0.020)
    period = shortest + np.argmax(cepstrum[:, shortest:longest], axis=1)
    low, high = int(rate * MIN_ORDER_SECONDS), int(rate * MAX_ORDER_SECONDS)
    return np.clip(period // 2, low, high)


def _envelope(log_magnitude: np.ndarray, rate: int) -> np.ndarray:
    """The spectral envelope (log) of every window: a cepstrally smoothed curve pushed up
    until it rests on the harmonic peaks instead of running between peaks and valleys
    ("true envelope": smooth, lift every bin to max(spectrum, curve), smooth again)."""
    cepstrum = np.fft.irfft(log_magnitude, n=N_FFT, axis=1)
    order = _cepstral_order(cepstrum, rate)
    quefrency = np.minimum(np.arange(N_FFT), N_FFT - np.arange(N_FFT))
    keep = quefrency[None, :] < order[:, None]
    envelope = np.fft.rfft(np.where(keep, cepstrum, 0), axis=1).real
    for _ in range(TRUE_ENVELOPE_ROUNDS):
        lifted = np.maximum(log_magnitude, envelope)
        cepstrum = np.fft.irfft(lifted, n=N_FFT, axis=1)
        envelope = np.fft.rfft(np.where(keep, cepstrum, 0), axis=1).real
    return envelope.astype(np.float32)


def _peak_of_each_bin(magnitude: np.ndarray) -> np.ndarray:
    """For every bin of every window, the index of the nearest local maximum (its "region of
    influence" in phase locking)."""
    frames, bins = magnitude.shape
    peaks = np.zeros_like(magnitude, dtype=bool)
    peaks[:, 1:-1] = (magnitude[:, 1:-1] > magnitude[:, :-2]) & (magnitude[:, 1:-1]
                                                                 >= magnitude[:, 2:])
    peaks[:, 0] = True  # every bin has a peak on its left side, at worst bin 0
    index = np.broadcast_to(np.arange(bins), (frames, bins))
    left = np.maximum.accumulate(np.where(peaks, index, 0), axis=1)
    right_source = np.where(peaks, index, bins * 2)[:, ::-1]
    right = np.minimum.accumulate(right_source, axis=1)[:, ::-1]
    use_right = (right < bins) & (right - index < index - left)
    return np.where(use_right, right, left)


class _Shifter:
    """The state carried from one block of windows to the next: the last analysis phase and
    the running output phase of every bin."""

    def __init__(self, rate: int, semitones: float, formant_factor: float):
        bins = N_FFT // 2 + 1
        self.ratio = 2.0 ** (semitones / 12.0)
        self.rate = rate
        self.bin_omega = (2 * np.pi * np.arange(bins) / N_FFT).astype(np.float32)
        self.pitch_map = _warp_indices(bins, self.ratio)
        self.formant_map = _warp_indices(bins, formant_factor)
        self.nearest = np.minimum(np.rint(np.arange(bins) / self.ratio), bins - 1).astype(np.intp)
        self.last_phase = np.zeros(bins, dtype=np.float32)
        self.out_phase = np.zeros(bins, dtype=np.float32)

    def process(self, spectrum: np.ndarray) -> np.ndarray:
        magnitude = np.abs(spectrum).astype(np.float32)
        phase = np.angle(spectrum).astype(np.float32)
        log_magnitude = np.log(magnitude + _TINY)
        envelope = _envelope(log_magnitude, self.rate)
        excitation = log_magnitude - envelope
        new_log = (_warp(excitation, self.pitch_map, np.log(_TINY))
                   + _warp(envelope, self.formant_map, np.log(_TINY)))

        # Instantaneous frequency of each input bin, from the phase advance over one hop.
        previous = np.vstack([self.last_phase[None, :], phase[:-1]])
        advance = phase - previous - self.bin_omega * HOP
        advance = (advance + np.pi) % (2 * np.pi) - np.pi
        frequency = self.bin_omega + advance / HOP
        self.last_phase = phase[-1].copy()

        # Output phase: the source bin's frequency times the ratio, accumulated per window...
        source_frequency = frequency[:, self.nearest] * self.ratio
        # (in float64: the running phase reaches 10^5 radians within a block)
        running = self.out_phase + np.cumsum(source_frequency * HOP, axis=0, dtype=np.float64)
        self.out_phase = (running[-1] % (2 * np.pi)).astype(np.float32)
        # ...then locked to the nearest peak: each bin keeps its original offset from its peak.
        peak = _peak_of_each_bin(np.exp(new_log))
        rows = np.arange(len(spectrum))[:, None]
        source_phase = phase[:, self.nearest]
        locked = running[rows, peak] + source_phase - source_phase[rows, peak]
        return np.exp(new_log) * np.exp(1j * locked).astype(np.complex64)


def disguise(samples: np.ndarray, rate: int, *, semitones: float,
             formant_factor: float) -> np.ndarray:
    """The disguised voice: `samples` (mono float32) with the pitch moved by `semitones` and
    the formants scaled by `formant_factor`, the same length, peak below full scale."""
    samples = np.asarray(samples, dtype=np.float32)
    length = len(samples)
    if length == 0:
        return samples
    window = _periodic_hann()
    frames = -(-(length + N_FFT) // HOP)
    padded = np.zeros((frames - 1) * HOP + N_FFT, dtype=np.float32)
    padded[N_FFT // 2:N_FFT // 2 + length] = samples
    output = np.zeros(len(padded) + 4 * HOP, dtype=np.float32)
    shifter = _Shifter(rate, semitones, formant_factor)
    for start in range(0, frames, BLOCK_FRAMES):
        count = min(BLOCK_FRAMES, frames - start)
        chunk = padded[start * HOP:(start + count - 1) * HOP + N_FFT]
        windows = np.lib.stride_tricks.sliding_window_view(chunk, N_FFT)[::HOP] * window
        shifted = shifter.process(np.fft.rfft(windows, axis=1))
        pieces = (np.fft.irfft(shifted, n=N_FFT, axis=1) * window).astype(np.float32)
        # Overlap-add: each window is four hops long; hop i of window j lands at hop j + i.
        pieces = pieces.reshape(count, 4, HOP)
        summed = np.zeros((count + 3, HOP), dtype=np.float32)
        for quarter in range(4):
            summed[quarter:quarter + count] += pieces[:, quarter]
        output[start * HOP:(start + count + 3) * HOP] += summed.ravel()
    del padded, chunk, windows
    result = output[N_FFT // 2:N_FFT // 2 + length]  # a view: no second copy of the recording
    result /= _WINDOW_GAIN
    peak = max(float(result.max()), -float(result.min()))
    if peak > 0.97:
        result *= 0.97 / peak
    return result
