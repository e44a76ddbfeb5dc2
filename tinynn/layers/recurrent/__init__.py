"""Recurrent layers: SimpleRNN, LSTM, GRU (each next to its one-step cell functions) and Bidirectional."""
from tinynn.layers.recurrent.base import BaseRNN
from tinynn.layers.recurrent.bidirectional import Bidirectional
from tinynn.layers.recurrent.gru import GRU, gru_cell_backward, gru_cell_forward
from tinynn.layers.recurrent.lstm import LSTM
from tinynn.layers.recurrent.lstm_cell import lstm_cell_backward, lstm_cell_forward
from tinynn.layers.recurrent.simple_rnn import SimpleRNN, simple_rnn_cell_backward, simple_rnn_cell_forward

__all__ = ["BaseRNN", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "simple_rnn_cell_forward",
           "simple_rnn_cell_backward", "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward",
           "gru_cell_backward"]
