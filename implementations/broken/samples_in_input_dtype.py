"""Gumbel-max whose samples are cast back to the logits' floating-point dtype.

What is wrong: a wrapper that "keeps the input dtype", as every deterministic op
of the family must, also casts the sampler's indices: argmax(x + G).astype(x.dtype).
The values are the right indices, but as floats they cannot index an array
(numpy raises IndexError, torch demands a long tensor for gather/one_hot), and in
float16 or bfloat16 indices above 2048 or 256 round to a neighbouring category:
in bfloat16 index 257 becomes 256. Seen in: apple/coremltools#2337 and #2710 (the converted
torch.multinomial returned fp16/fp32 indices, because MIL's random_categorical
keeps the dtype of its probabilities), and dtype-preserving wrappers applied to
index-returning ops.
Must be caught by: gumbel_max_contract (and gumbel_max_distribution, whose
counting refuses non-integer samples).
"""
import numpy as np

ZOO = [
    {
        "function": "gumbel_max",
        "op": "gumbel_max",
        "dtypes": ["float32"],
        "caught_by": ["gumbel_max_contract", "gumbel_max_distribution"],
    },
]


def gumbel_max(logits, num_samples, seed):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits, dtype=np.float64)
    samples = np.argmax(x - np.log(rng.standard_exponential((int(num_samples), x.shape[-1]))), axis=-1)
    return samples.astype(logits.dtype)  # should stay an integer dtype
