"""Parameter and FLOP counts against hand counts (multiply-add = 2 FLOPs, bias and elementwise not counted)."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.flop_counter import FlopCounterMode

from trustser.pillars.sustainability import ParameterCount, count_flops, count_parameters


def torch_count(model, *inputs) -> int:
    with FlopCounterMode(display=False) as counter:
        model(*inputs)
    return counter.get_total_flops()


def test_parameters_total_trainable_and_tied_weights_once():
    model = nn.Sequential(nn.Linear(10, 7), nn.Linear(7, 3))  # (10·7 + 7) + (7·3 + 3) = 77 + 24
    assert count_parameters(model) == ParameterCount(total=101, trainable=101)
    model[0].requires_grad_(False)
    assert count_parameters(model) == ParameterCount(total=101, trainable=24)
    tied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert count_parameters(tied).total == 16


def test_linear_counts_a_multiply_add_as_two_flops():
    # 3 rows x (10 inputs x 7 outputs) multiply-adds = 210; x 2 = 420 (the bias add is not counted)
    assert count_flops(nn.Linear(10, 7), torch.randn(3, 10)) == 2 * 3 * 10 * 7 == 420


def test_conv1d():
    # L_out = floor((50 + 2·1 − 5) / 2) + 1 = 24; each output: C_in·k = 4·5 multiply-adds.
    # 2 (batch) x 6 (channels) x 24 (positions) x 20 multiply-adds x 2 = 11 520
    conv = nn.Conv1d(4, 6, kernel_size=5, stride=2, padding=1)
    assert count_flops(conv, torch.randn(2, 4, 50)) == 2 * 2 * 6 * 24 * 4 * 5 == 11_520


# input_size 10, hidden 8, 5 steps x 3 sequences = 15 items; an LSTM layer does 4 gates x 8 rows of
# (I + H)-long dot products per item per direction: 2 · 32 · (I + 8) FLOPs.
#   layer 0: I = 10 -> 2·32·18 = 1152    layer 1: I = 8 (16 if bidirectional) -> 1024 (1536)
LSTM_CASES = [
    # (num_layers, bidirectional, batch_first, expected FLOPs)
    (1, False, False, 15 * 1152),  # 17 280
    (1, False, True, 15 * 1152),
    (2, False, False, 15 * (1152 + 1024)),  # 32 640
    (1, True, False, 15 * 2 * 1152),  # 34 560
    (2, True, True, 15 * 2 * (1152 + 1536)),  # 80 640
]


@pytest.mark.parametrize("num_layers, bidirectional, batch_first, expected", LSTM_CASES)
def test_lstm_by_hand(num_layers, bidirectional, batch_first, expected):
    torch.manual_seed(0)
    lstm = nn.LSTM(10, 8, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn(3, 5, 10) if batch_first else torch.randn(5, 3, 10)
    assert count_flops(lstm, x) == expected
    with torch.no_grad():
        assert count_flops(lstm, x) == expected


def test_lstm_on_cpu_is_invisible_to_flop_counter_mode():
    # The reason for the analytic count: if torch ever counts it, the test tells us (and
    # count_flops still replaces torch's number with the formula, so nothing is counted twice).
    assert torch_count(nn.LSTM(10, 8), torch.randn(5, 3, 10)) == 0


def test_packed_lstm_counts_only_real_steps_and_agrees_with_torch():
    # lengths 5, 3, 2 -> 10 (step, sequence) items, not 15: 10 x 1152 = 11 520
    lstm = nn.LSTM(10, 8, batch_first=True)
    packed = pack_padded_sequence(torch.randn(3, 5, 10), torch.tensor([5, 3, 2]), batch_first=True)
    assert count_flops(lstm, packed) == 11_520
    assert torch_count(lstm, packed) == 11_520  # torch decomposes the packed case: same convention


def test_gru_by_hand_and_not_double_counted():
    # 3 gates x 8 rows: 2·24·(10 + 8) = 864 per item; 5 steps x 2 sequences = 10 items -> 8 640.
    # torch counts GRUs itself; the analytic count replaces its number rather than adding to it.
    gru = nn.GRU(10, 8)
    x = torch.randn(5, 2, 10)
    assert count_flops(gru, x) == 8_640 == torch_count(gru, x)
    bi = nn.GRU(10, 8, num_layers=2, bidirectional=True)  # layer 1: I = 16 -> 2·24·24 = 1152
    assert count_flops(bi, x) == 10 * 2 * (864 + 1152) == torch_count(bi, x)


def test_unbatched_sequence():
    assert count_flops(nn.LSTM(10, 8), torch.randn(5, 10)) == 5 * 1152


class ConvLstmHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=3)
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.out = nn.Linear(6, 2)

    def forward(self, waves):
        frames = self.conv(waves[:, None]).transpose(1, 2)  # (N, 18, 4)
        states, _ = self.lstm(frames)
        return self.out(states[:, -1])


def test_model_total_is_the_sum_and_hooks_are_removed():
    # conv: 2 x 4 x 18 x (1·3) x 2 = 864; lstm: 36 items x 2·24·(4 + 6) = 17 280; linear: 2·2·6·2 = 48
    model = ConvLstmHead()
    assert count_flops(model, torch.randn(2, 20)) == 864 + 17_280 + 48
    assert not model.lstm._forward_hooks and not model.lstm._forward_pre_hooks


def test_lstm_projection_is_rejected():
    with pytest.raises(ValueError, match="proj_size"):
        count_flops(nn.LSTM(10, 8, proj_size=4), torch.randn(5, 3, 10))
