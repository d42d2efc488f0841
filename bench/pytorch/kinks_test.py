"""The float32 calibration's kinks (twin.Kinks, sgan_torch.ambiguous_kinks): the recording and
flipping of relu and leaky relu inputs, and which of them count as float32-ambiguous."""
import unittest

import torch

import sgan_torch
import twin


class KinksTest(unittest.TestCase):
    def tearDown(self):
        twin.kinks = None

    def test_records_without_changing_values_or_gradients(self):
        x = torch.tensor([-2.0, -1e-9, 3.0], dtype=torch.float64, requires_grad=True)
        twin.kinks = recorded = twin.Kinks()
        y = twin.ACTIVATIONS["leaky_relu"](x) + twin.ACTIVATIONS["relu"](x)
        y.sum().backward()
        twin.kinks = None
        expected = torch.nn.functional.leaky_relu(x, 0.2) + torch.relu(x)
        self.assertTrue(torch.equal(y, expected))
        self.assertEqual(x.grad.tolist(), [0.2, 0.2, 2.0])
        self.assertEqual(len(recorded.inputs), 2)

    def test_flips_the_masked_elements_side(self):
        x = torch.tensor([-2.0, -1e-9, 3.0], dtype=torch.float64, requires_grad=True)
        twin.kinks = twin.Kinks({0: torch.tensor([False, True, False])})
        y = twin.ACTIVATIONS["leaky_relu"](x)
        y.sum().backward()
        self.assertEqual(x.grad.tolist(), [0.2, 1.0, 1.0])  # the second now on the positive side

    def test_ambiguous_within_the_margin_of_float32_rounding(self):
        x64 = torch.tensor([1e-9, -3e-7, 0.5, -1.0], dtype=torch.float64)
        x32 = (x64 + torch.tensor([2e-8, -2e-8, 2e-8, -2e-8], dtype=torch.float64)).float()
        flips, count, total = sgan_torch.ambiguous_kinks([x64, x64], [x32, x64.float()])
        # The first call's float32 inputs are ~2e-8 off: within KINK_MARGIN times that of zero
        # lies 1e-9 only; the second call's float32 inputs are the float64 ones rounded (~1e-8
        # off at 0.5) and 1e-9 is within rounding of zero there too.
        self.assertEqual(total, 8)
        self.assertEqual(flips[0].tolist(), [True, False, False, False])
        self.assertEqual(count, int(sum(mask.sum() for mask in flips.values())))
        self.assertFalse(flips.get(1, torch.zeros(4, dtype=torch.bool))[2:].any())


if __name__ == "__main__":
    unittest.main()
