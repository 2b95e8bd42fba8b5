#!/usr/bin/env python3
"""Writes lstm_golden.txt: a PyTorch nn.LSTM + nn.Linear readout, its input,
outputs, loss and every gradient, in float64, in the ELMTENSOR v1 text format
(io/elmtensor.h). elm/lstm_golden_test.cc checks our LstmModel against it.

Run with Debian's python3-torch (1.13.1):
  apt-get install python3-torch && /usr/bin/python3 make_lstm_golden.py
"""
import json
import os

import torch

D, H, N_OUT, B, T = 5, 7, 3, 2, 9
SEED = 20261128


def fmt(values, dtype):
    if dtype == "f64":
        return [repr(float(v)) for v in values]
    return ["%.9g" % v for v in values]


def tensor_block(name, t, dtype="f64"):
    t = t.detach().to(torch.float64).contiguous()
    values = t.reshape(-1).tolist()
    lines = ["tensor %s %s %d%s" % (name, dtype, t.dim(),
                                    "".join(" %d" % s for s in t.shape))]
    words = fmt(values, dtype)
    for i in range(0, len(words), 8):
        lines.append(" ".join(words[i:i + 8]))
    return lines


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    readout = torch.nn.Linear(H, N_OUT).double()
    x = (1.5 * torch.randn(B, T, D, dtype=torch.float64)).requires_grad_(True)
    h, (h_n, c_n) = lstm(x)
    h.retain_grad()
    y = readout(h)
    loss = (y * y).sum()
    loss.backward()

    params = [("weight_ih_l0", lstm.weight_ih_l0),
              ("weight_hh_l0", lstm.weight_hh_l0),
              ("bias_ih_l0", lstm.bias_ih_l0),
              ("bias_hh_l0", lstm.bias_hh_l0),
              ("readout.weight", readout.weight),
              ("readout.bias", readout.bias)]
    out = ["#ELMTENSOR v1",
           "# LSTM golden file: torch.nn.LSTM(%d, %d, batch_first=True) and "
           "torch.nn.Linear(%d, %d), float64" % (D, H, H, N_OUT),
           "# made by elm/testdata/lstm/make_lstm_golden.py with torch %s, "
           "torch.manual_seed(%d)" % (torch.__version__, SEED),
           "# config: " + json.dumps({"num_input": D, "hidden": H,
                                      "num_output": N_OUT, "batch": B,
                                      "steps": T}),
           "# loss: L = sum(y^2); grad.* are dL/d(param or input)"]
    for name, p in params:
        out += tensor_block("param." + name, p)
    out += tensor_block("input.X", x)
    out += tensor_block("output.h", h)
    out += tensor_block("output.c_last", c_n[0])
    out += tensor_block("output.y", y)
    out += tensor_block("loss", loss)
    for name, p in params:
        out += tensor_block("grad." + name, p.grad)
    out += tensor_block("grad.input.X", x.grad)
    out.append("end")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "lstm_golden.txt")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
