# braid: entry=game_of_life
# braid: preset tiny N=9 M=11 STEPS=4
# braid: preset default N=1200 M=1300 STEPS=20
# braid: targets cpu
"""Conway's Game of Life on a uint8 board with a dead border, plain NumPy: neighbour counts from
eight shifted slices, the rules as boolean algebra, cast back to uint8. Returns the population
after every step."""

import numpy as np


#pythran export game_of_life(uint8[:,:], int)
def game_of_life(board, steps):
    population = np.zeros(steps, dtype=np.int64)
    for s in range(steps):
        b = board
        n = (
            b[:-2, :-2].astype(np.int32) + b[:-2, 1:-1] + b[:-2, 2:]
            + b[1:-1, :-2] + b[1:-1, 2:]
            + b[2:, :-2] + b[2:, 1:-1] + b[2:, 2:]
        )
        alive = b[1:-1, 1:-1] == 1
        board[1:-1, 1:-1] = ((n == 3) | (alive & (n == 2))).astype(np.uint8)
        population[s] = np.sum(board)
    return population


def initialize(N, M, STEPS):
    rng = np.random.default_rng(42)
    board = (rng.random((N, M)) < 0.35).astype(np.uint8)
    board[0, :] = board[-1, :] = 0
    board[:, 0] = board[:, -1] = 0
    return {"board": board, "steps": STEPS}
