"""The twin's Philox against Random123's known-answer vectors (kat_vectors, philox4x32 10) and
the engine's draws (kernels/philox.h) against their definitions, element by element."""
import unittest

import numpy as np

import philox


class Philox4x32Test(unittest.TestCase):
    def test_matches_random123_known_answers(self):
        cases = [  # counter (4 words), key (2 words) -> output (4 words)
            ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
            ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2,
             (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
            ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
             (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
        ]
        for counter, key, expected in cases:
            out = philox.philox4x32_10(np.array(counter, dtype=np.uint32).reshape(4, 1), key)
            self.assertEqual(tuple(int(w) for w in out[:, 0]), expected)

    def test_element_e_is_word_e_mod_4_of_block_e_div_4(self):
        seed, stream, counter = 0x123456789AB, 1000, (7 << 32) | 5
        w = philox.words(11, seed, stream, counter)
        for e in (0, 3, 4, 10):
            ctr = np.array([e // 4, stream, 5, 7], dtype=np.uint32).reshape(4, 1)
            block = philox.philox4x32_10(ctr, (seed & 0xFFFFFFFF, seed >> 32))
            self.assertEqual(int(w[e]), int(block[e % 4, 0]))

    def test_uniform_normal_and_keep_follow_their_definitions(self):
        w = philox.words(8, 3, 2, 1).astype(np.float64)
        u = philox.uniform(8, 3, 2, 1)
        np.testing.assert_array_equal(u, np.floor(w / 256) / 2**24)
        n = philox.normal(8, 3, 2, 1)
        u1 = (np.floor(w[0::2] / 256) + 1) / 2**24
        u2 = np.floor(w[1::2] / 256) / 2**24
        radius = np.sqrt(-2 * np.log(u1))
        np.testing.assert_allclose(n[0::2], radius * np.cos(2 * np.pi * u2), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(n[1::2], radius * np.sin(2 * np.pi * u2), rtol=1e-5, atol=1e-6)
        keep = philox.keep_mask(8, 0.7, 3, 2, 1)
        np.testing.assert_array_equal(keep, w < float(np.float32(0.7)) * 2**32)


if __name__ == "__main__":
    unittest.main()
