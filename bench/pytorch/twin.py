"""The two SGAN recipes in PyTorch, layer for layer as the engine builds them
(engine/sgan/recipes.cpp), with the losses of ../shared/SGAN.md written out from their formulas and
the engine's Adam (kernels/optimizers.h), so that one iteration here is the same function as ours.

Parameter names are the engine's (a checkpoint's "D.fc1.weight_v" is D's "fc1.weight_v"), and
every layer keeps its position in the chain: the engine's layer i of D draws its noise from Philox
stream 1000 + i, which is how PhiloxNoise replays our noise and dropout masks exactly.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import philox

CLASSES = 10


class Kinks:
    """Records the input of every relu and leaky relu while installed as twin.kinks, call after
    call (the replay's order), and can flip chosen elements' side of the kink: flips maps a
    call's index to a boolean mask, and the masked elements take the slope of the other side
    (in value and gradient). The check uses it to find the kinks whose input lies within float32
    rounding of zero, which a float32 implementation may put on either side (see sgan_torch.py:
    kink_sensitivity)."""

    def __init__(self, flips=None):
        self.inputs = []
        self.flips = flips or {}

    def __call__(self, x, slope):
        call = len(self.inputs)
        self.inputs.append(x.detach().clone())
        positive = x > 0
        if call in self.flips:
            positive = positive ^ self.flips[call]
        return torch.where(positive, x, slope * x)


kinks = None  # a Kinks while a check records or flips them; None: PyTorch's own functions


def _relu(x):
    return F.relu(x) if kinks is None else kinks(x, 0.0)


def _leaky_relu(x):
    return F.leaky_relu(x, 0.2) if kinks is None else kinks(x, 0.2)


ACTIVATIONS = {
    None: lambda x: x,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": F.softplus,
}


# Noise sources: what D's GaussianNoise and Dropout layers draw.
class TorchNoise:
    """PyTorch's own generator: the source for timing, where only the cost has to match."""

    def gaussian(self, layer, x, sigma):
        return x + sigma * torch.randn_like(x)

    def dropout(self, layer, x, keep):
        return torch.where(torch.rand_like(x) < keep, x / keep, torch.zeros_like(x))


class PhiloxNoise:
    """The engine's draws for one model at one counter value (kernels/philox.h)."""

    def __init__(self, seed, stream_base, counter):
        self.seed, self.stream_base, self.counter = seed, stream_base, counter

    def _stream(self, layer):
        return self.stream_base + layer

    def gaussian(self, layer, x, sigma):
        n = philox.normal(x.numel(), self.seed, self._stream(layer), self.counter)
        return x + sigma * torch.from_numpy(n).to(x.device).view_as(x)

    def dropout(self, layer, x, keep):
        mask = philox.keep_mask(x.numel(), keep, self.seed, self._stream(layer), self.counter)
        mask = torch.from_numpy(mask).to(x.device).view_as(x)
        return torch.where(mask, x / np.float32(keep), torch.zeros_like(x))


# Layers. A stochastic layer takes the noise source and its position in the chain.
class GaussianNoise(nn.Module):
    stochastic = True

    def __init__(self, sigma):
        super().__init__()
        self.sigma = sigma

    def forward(self, x, noise, position):
        return noise.gaussian(position, x, self.sigma) if self.training else x


class Dropout(nn.Module):
    stochastic = True

    def __init__(self, rate):
        super().__init__()
        self.keep = 1.0 - rate

    def forward(self, x, noise, position):
        return noise.dropout(position, x, self.keep) if self.training else x


class Dense(nn.Module):
    """y = f(x W^T + b); with weight_norm W[o] = g[o] v[o] / ||v[o]||, g trained only with
    train_scale (improved-gan's hidden layers keep the g of their data-dependent init). W (or v)
    starts from Keras' glorot_uniform, or from N(0, direction_std^2) where that is given."""

    def __init__(self, fan_in, units, activation=None, bias=True, weight_norm=False,
                 train_scale=True, direction_std=None):
        super().__init__()
        self.activation = ACTIVATIONS[activation]
        self.weight_norm = weight_norm
        if direction_std is None:
            limit = math.sqrt(6.0 / (fan_in + units))
            initial = torch.empty(units, fan_in).uniform_(-limit, limit)
        else:
            initial = torch.randn(units, fan_in) * direction_std
        if weight_norm:
            self.weight_v = nn.Parameter(initial)
            self.weight_g = nn.Parameter(torch.ones(units), requires_grad=train_scale)
        else:
            self.weight = nn.Parameter(initial)
        self.bias = nn.Parameter(torch.zeros(units)) if bias else None

    def forward(self, x):
        if self.weight_norm:
            w = self.weight_g[:, None] * self.weight_v / self.weight_v.norm(dim=1, keepdim=True)
        else:
            w = self.weight
        return self.activation(F.linear(x, w, self.bias))


def same_pads(size, kernel, stride):
    """Keras "same": out = ceil(size / stride), the extra pixel of an odd total on the far side."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2d(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, size, activation=None):
        super().__init__()
        self.stride, self.activation = stride, ACTIVATIONS[activation]
        top, bottom = same_pads(size, kernel, stride)
        self.pads = (top, bottom, top, bottom)  # F.pad order: left, right, top, bottom
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel) * 0.05)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        return self.activation(F.conv2d(F.pad(x, self.pads), self.weight, self.bias, self.stride))


class ConvTranspose2d(nn.Module):
    """Keras' Conv2DTranspose "same": out = size * stride, the pads of the conv2d mapping back."""

    def __init__(self, c_in, c_out, kernel, stride, size, activation=None):
        super().__init__()
        top, bottom = same_pads(size * stride, kernel, stride)
        assert top == bottom, "an asymmetric transposed-conv padding is not needed by the recipes"
        self.stride, self.padding, self.activation = stride, top, ACTIVATIONS[activation]
        self.weight = nn.Parameter(torch.randn(c_in, c_out, kernel, kernel) * 0.05)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        y = F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding)
        return self.activation(y)


class BatchNorm(nn.Module):
    """Batch statistics in training mode (running averages updated with the unbiased variance,
    momentum = the new batch's weight), running ones in eval mode; gamma trained only with scale."""

    def __init__(self, channels, momentum, eps, activation=None, scale=True):
        super().__init__()
        self.momentum, self.eps, self.activation = momentum, eps, ACTIVATIONS[activation]
        self.weight = nn.Parameter(torch.ones(channels), requires_grad=scale)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        y = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, self.momentum, self.eps)
        return self.activation(y)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class Chain(nn.Module):
    """Named layers in order, as the engine's Model: forward can stop at a named layer (feature
    matching reads D's penultimate activation)."""

    def __init__(self, layers):
        super().__init__()
        for name, layer in layers:
            self.add_module(name, layer)

    def forward(self, x, noise=None, until=None):
        for position, (name, layer) in enumerate(self.named_children()):
            x = layer(x, noise, position) if getattr(layer, "stochastic", False) else layer(x)
            if name == until:
                break
        return x


def d_input_shape(recipe):
    """One image as D reads it: the improved recipe's MLP a flat row, the article's conv NCHW."""
    return (28 * 28,) if recipe == "improved" else (1, 28, 28)


def make_discriminator(recipe, fake_logit):
    logits = CLASSES if fake_logit == "zero" else CLASSES + 1
    if recipe == "improved":
        layers, width = [("noise0", GaussianNoise(0.3))], 28 * 28
        for i, units in enumerate([1000, 500, 250, 250, 250], start=1):
            hidden = Dense(width, units, "relu", weight_norm=True, train_scale=False,
                           direction_std=0.1)
            layers.append((f"fc{i}", hidden))
            layers.append((f"noise{i}", GaussianNoise(0.5)))
            width = units
        layers.append(("logits", Dense(width, logits, weight_norm=True, train_scale=True,
                                       direction_std=0.1)))
        return Chain(layers)
    return Chain([
        ("conv1", Conv2d(1, 64, 3, 2, 28, "leaky_relu")),
        ("drop1", Dropout(0.3)),
        ("conv2", Conv2d(64, 128, 3, 2, 14, "leaky_relu")),
        ("drop2", Dropout(0.3)),
        ("flatten", Reshape(128 * 7 * 7)),
        ("logits", Dense(128 * 7 * 7, logits)),
    ])


def make_generator(recipe):
    if recipe == "improved":
        return Chain([
            ("fc1", Dense(100, 500, bias=False)),
            ("bn1", BatchNorm(500, 0.1, 1e-6, "softplus", scale=False)),
            ("fc2", Dense(500, 500, bias=False)),
            ("bn2", BatchNorm(500, 0.1, 1e-6, "softplus", scale=False)),
            ("to_image", Dense(500, 28 * 28, "sigmoid", weight_norm=True, train_scale=True)),
            ("image", Reshape(1, 28, 28)),
        ])
    return Chain([
        ("fc", Dense(100, 128 * 7 * 7, "relu")),
        ("reshape", Reshape(128, 7, 7)),
        ("bn1", BatchNorm(128, 0.01, 1e-3)),
        ("deconv1", ConvTranspose2d(128, 128, 4, 2, 7, "relu")),
        ("bn2", BatchNorm(128, 0.01, 1e-3)),
        ("deconv2", ConvTranspose2d(128, 64, 4, 2, 14, "relu")),
        ("bn3", BatchNorm(64, 0.01, 1e-3)),
        ("to_image", Conv2d(64, 1, 7, 1, 28, "tanh")),
    ])


# Losses (SGAN.md), per row from the logits l: LSE(S) = log sum_{j in S} exp(l_j), R the real
# classes, A = R + {fake}; with a fixed zero fake logit l_K = 0.
def _row_terms(logits, explicit):
    real = logits[:, :CLASSES]
    every = logits if explicit else F.pad(real, (0, 1))
    return torch.logsumexp(every, 1), torch.logsumexp(real, 1), every[:, CLASSES]


def supervised_loss(logits, labels, explicit):
    """Labeled rows: -log D_y(x) = LSE(A) - l_y, or LSE(R) - l_y with a fixed zero fake logit."""
    lse_all, lse_real, _ = _row_terms(logits, explicit)
    picked = logits.gather(1, labels[:, None].long())[:, 0]
    return ((lse_all if explicit else lse_real) - picked).mean()


def discriminator_losses(logits, labels, n, unsup_weight, explicit):
    """Rows [labeled | unlabeled | fake], n of each. Returns (L_sup, w (L_real + L_fake))."""
    lse_all, lse_real, fake_logit = _row_terms(logits, explicit)
    supervised = supervised_loss(logits[:n], labels, explicit)
    real = (lse_all[n:2 * n] - lse_real[n:2 * n]).mean()        # -log(1 - D_fake(x))
    fake = (lse_all[2 * n:] - fake_logit[2 * n:]).mean()        # -log D_fake(G(z))
    return supervised, unsup_weight * (real + fake)


def generator_nonsat_loss(logits, explicit):
    lse_all, lse_real, _ = _row_terms(logits, explicit)
    return (lse_all - lse_real).mean()                           # -log(1 - D_fake(G(z)))


def feature_matching_loss(real_features, fake_features):
    return (real_features.mean(0) - fake_features.mean(0)).square().mean()


def scheduled_lr(config, step, iterations_per_epoch):
    """kernels/schedule.h: base lr, then linear to final_lr between the decay epochs."""
    start = config["decay_start_epoch"] * iterations_per_epoch
    end = config["epochs"] * iterations_per_epoch
    if end <= start or step <= start:
        return config["lr"]
    if step >= end:
        return config["final_lr"]
    return config["lr"] + (step - start) / (end - start) * (config["final_lr"] - config["lr"])


def float32(x):
    """x rounded to float32, as the engine holds its hyperparameters and per-step scalars."""
    return float(np.float32(x))


class Adam:
    """kernels/optimizers.h, with PyTorch's multi-tensor (foreach) kernels, as torch.optim.Adam
    runs by default on a GPU: p -= lr m^ / (sqrt(v^) + eps), or with eps_inside_sqrt
    (openai/improved-gan's form) p -= lr m^ / sqrt(v^ + eps). The hyperparameters, the learning
    rate and the bias corrections are float32 numbers, as in the engine: beta2 = 0.999 is
    0.99900001, so 1 - beta2 is 9.99987e-4, not 1e-3."""

    def __init__(self, params, lr_at, beta1, beta2=0.999, eps=1e-8, eps_inside_sqrt=False):
        self.params = list(params)
        self.lr_at = lr_at
        self.beta1, self.beta2, self.eps = float32(beta1), float32(beta2), float32(eps)
        self.eps_inside_sqrt = eps_inside_sqrt
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.steps = 0

    @torch.no_grad()
    def step(self, grads):
        self.steps += 1
        t = self.steps
        lr = float32(self.lr_at(t))
        bias1, bias2 = float32(1.0 - self.beta1 ** t), float32(1.0 - self.beta2 ** t)
        torch._foreach_mul_(self.m, self.beta1)
        torch._foreach_add_(self.m, grads, alpha=1.0 - self.beta1)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1.0 - self.beta2)
        v_hat = torch._foreach_div(self.v, bias2)
        if self.eps_inside_sqrt:
            denominator = torch._foreach_sqrt(torch._foreach_add(v_hat, self.eps))
        else:
            denominator = torch._foreach_add(torch._foreach_sqrt(v_hat), self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denominator, value=-lr / bias1)


def trainable(model):
    return [p for p in model.parameters() if p.requires_grad]


class SganIteration:
    """One iteration of the trainer (engine/sgan/trainer.cpp): the D step on the concatenated
    [labeled | unlabeled | G(z)] batch with G's images as constants, then the G step through a
    D that is not updated, each followed by Adam on its own model's parameters. Without a G
    (g None: the supervised-only baseline) the D step sees the labeled rows alone."""

    def __init__(self, config, d, g, iterations_per_epoch, adam_eps_inside_sqrt, feature_layer):
        self.config, self.d, self.g = config, d, g
        self.explicit = config["fake_logit"] != "zero"
        self.feature_matching = config["g_loss"] == "feature-matching"
        self.feature_layer = feature_layer
        self.d_image = d_input_shape(config["recipe"])
        lr_at = lambda t: scheduled_lr(config, t, iterations_per_epoch)
        self.d_params, self.g_params = trainable(d), trainable(g) if g else []
        self.d_opt, self.g_opt = (Adam(params, lr_at, config["beta1"],
                                       eps_inside_sqrt=adam_eps_inside_sqrt)
                                  for params in (self.d_params, self.g_params))
        # The loss functions, eager or compiled (torch.compile) by the caller.
        self.d_loss = self.discriminator_loss
        self.g_loss = self.generator_loss

    def as_d_input(self, images):
        return images.reshape(images.shape[0], *self.d_image)

    def discriminator_loss(self, labeled, labels, unlabeled, z, noise):
        if self.g is None:
            logits = self.d(labeled, noise)
            return supervised_loss(logits, labels, self.explicit), logits.new_zeros(())
        with torch.no_grad():
            fake = self.as_d_input(self.g(z))
        logits = self.d(torch.cat([labeled, unlabeled, fake]), noise)
        return discriminator_losses(logits, labels, labeled.shape[0], self.config["unsup_weight"],
                                    self.explicit)

    def generator_loss(self, unlabeled, z, noise):
        fake = self.as_d_input(self.g(z))
        if self.feature_matching:
            features = self.d(torch.cat([unlabeled, fake]), noise, until=self.feature_layer)
            n = unlabeled.shape[0]
            return feature_matching_loss(features[:n], features[n:])
        return generator_nonsat_loss(self.d(fake, noise), self.explicit)

    def discriminator_step(self, labeled, labels, unlabeled, z, noise):
        supervised, unsupervised = self.d_loss(labeled, labels, unlabeled, z, noise)
        self.d_opt.step(torch.autograd.grad(supervised + unsupervised, self.d_params))
        return supervised.detach(), unsupervised.detach()

    def generator_step(self, unlabeled, z, noise):
        loss = self.g_loss(unlabeled, z, noise)
        self.g_opt.step(torch.autograd.grad(loss, self.g_params))
        return loss.detach()
