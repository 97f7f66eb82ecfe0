"""Small dense linear algebra on ``T x T`` Gramians, on the device and without host synchronisation.

Most surgery methods reduce the Jacobian ``J`` ``(T, P)`` to its Gramian ``G = J Jᵀ`` ``(T, T)``, solve a small
problem on ``G`` for task weights ``w`` ``(T,)`` and return ``w @ J``. The helpers here solve those small problems
with a **fixed amount of work** (no data-dependent Python branches, no ``.item()``), so that they never stall a
CUDA stream:

* :func:`eigh_psd` (eigendecomposition): LAPACK on the CPU; elsewhere a cyclic Jacobi method with a fixed number
  of sweeps, because ``torch.linalg.eigh``/``svd``/``pinv`` check their LAPACK error codes on the host.
* :func:`interior_point`: a primal-dual interior-point method (Mehrotra predictor-corrector) for
  ``min f(x) s.t. x >= lower [, sum(x) = 1]`` with a fixed iteration count; converged problems stop moving
  (``torch.where``) once the residuals and the complementarity gap are below the tolerance.
* :func:`pinv_apply`: ``pinv(G) @ b`` by iterated Tikhonov regularisation (one Cholesky factorisation).

Linear systems use ``torch.linalg.cholesky_ex`` (no error check, so no sync; :func:`robust_cholesky` falls back
to a ridge on the device when a float32 Gramian's rounding makes it indefinite) and triangular solves. The
Gramian is regularised relative to each task's squared norm (:func:`regularize`).

Solvers run in float64 (float32 on MPS, which has no float64): the Gramian is tiny, and the extra precision
makes fixed iteration counts reliable whatever the input dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

#: Solvers run a fixed number of iterations on accelerators, where reading a convergence flag would synchronise
#: the stream with the host. On the CPU reading it costs nothing, so loops whose converged iterates stop moving
#: exit as soon as every problem has converged: the same result, in about half the iterations. The CPU proxy of
#: the host-sync check (tests) switches this off to see the accelerator's code path.
EARLY_EXIT_ON_CPU = True


def all_converged(done: Tensor) -> bool:
    """Whether a solver loop may stop now: every entry of ``done`` is set and it is on the CPU (with
    :data:`EARLY_EXIT_ON_CPU`). Never reads a device tensor (always ``False`` off the CPU)."""
    return EARLY_EXIT_ON_CPU and done.device.type == "cpu" and bool(done.all())


def solver_dtype(device: torch.device) -> torch.dtype:
    """dtype of the small ``T x T`` solves: float64, except on MPS (no float64 there)."""
    return torch.float32 if device.type == "mps" else torch.float64


def gramian(jacobian: Tensor) -> Tensor:
    """``G = J Jᵀ`` ``(T, T)`` in the Jacobian's dtype, symmetrised, cast to :func:`solver_dtype`."""
    return gramian_of_blocks([jacobian])


def gramian_of_blocks(blocks: Sequence[Tensor]) -> Tensor:
    """``G = Σ_b J_b J_bᵀ``: the Gramian of the column-wise concatenation of ``blocks`` (each ``(T, P_b)``, one
    dtype) without building the ``(T, P)`` matrix; symmetrised, cast to :func:`solver_dtype`.

    The products run on the blocks divided by a power of two near their largest magnitude, and the result is
    scaled back in the solver dtype: gradients of size 1e20 (whose squares overflow float32) or 1e-20 (whose
    squares underflow it) keep a finite, accurate Gramian, and at ordinary scales the result is bit-identical
    (scaling by a power of two is exact). Costs one ``amax`` and one scaled copy per block, no host sync.
    """
    scale = power_of_two_scale(blocks)
    G = _block_gramian(blocks[0] / scale)
    for block in blocks[1:]:
        G = G + _block_gramian(block / scale)
    G = 0.5 * (G + G.T)
    dtype = solver_dtype(blocks[0].device)
    return G.to(dtype) * scale.to(dtype).square()


def power_of_two_scale(blocks: Sequence[Tensor]) -> Tensor:
    """``2^e`` (0-dim, the blocks' dtype) with the largest ``|entry|`` of ``blocks`` in ``[2^(e-1), 2^e)``; 1 for
    all-zero blocks. Non-finite entries give a non-finite Gramian anyway (the non-finite check reports it)."""
    largest = torch.stack([block.detach().abs().amax() for block in blocks]).amax()
    exponent = torch.frexp(largest).exponent
    one = torch.ones((), dtype=blocks[0].dtype, device=blocks[0].device)
    return torch.where(largest > 0, torch.ldexp(one, exponent), one)


#: Columns per chunk of :func:`_block_gramian` (and the width below which one matrix product is used).
GRAMIAN_CHUNK = 8192


def _block_gramian(block: Tensor) -> Tensor:
    """``block @ block.T`` for a wide ``(T, K)`` block, as a batched product over column chunks summed.

    On the CPU, MKL runs a ``(T, K) x (K, T)`` product with ``T < 16`` far below its speed at ``T = 16``
    (measured, ``K = 160k``, 2 cores: 1.6 ms at ``T = 10`` and 3.7 ms at ``T = 15``, but 0.9 ms at ``T = 16``);
    ``K // GRAMIAN_CHUNK`` equal chunks as one ``bmm`` take 0.34 ms and 0.82 ms. Elsewhere, and for
    ``T >= 16``, the plain product. Summation order differs from it only by float rounding.
    """
    T, K = block.shape
    chunks = K // GRAMIAN_CHUNK
    if chunks < 2 or T >= 16 or block.device.type != "cpu":
        return block @ block.T
    width = chunks * GRAMIAN_CHUNK
    head = block[:, :width].reshape(T, chunks, GRAMIAN_CHUNK).transpose(0, 1)  # (chunks, T, chunk)
    G = torch.bmm(head, head.transpose(1, 2)).sum(0)
    if width < K:
        tail = block[:, width:]
        G = G.addmm(tail, tail.T)
    return G


def kept_buffer(buffer: Tensor | None, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """``buffer`` if it has this shape, dtype and device, else a new empty one: for the tens-of-MB ``(T, P)``
    temporaries of an update, which cost their page faults on the CPU when allocated afresh every time."""
    if buffer is None or buffer.shape != shape or buffer.dtype != dtype or buffer.device != device:
        buffer = torch.empty(shape, dtype=dtype, device=device)
    return buffer


def input_eps(dtype: torch.dtype) -> float:
    """Machine epsilon of the dtype the Gramian was computed in (its relative noise level)."""
    return torch.finfo(dtype).eps if dtype.is_floating_point else torch.finfo(torch.float32).eps


def normalize_gramian(G: Tensor) -> tuple[Tensor, Tensor]:
    """``(G / s, s)`` with ``s`` the mean of the diagonal (the mean squared gradient norm).

    Scale-invariant methods solve on ``G / s`` so that tolerances are relative. A zero Gramian gives zeros and
    ``s = 0`` (never a division by zero).
    """
    scale = G.diagonal().mean()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return torch.where(scale > 0, G / safe, torch.zeros_like(G)), scale


def regularize(G: Tensor, input_dtype: torch.dtype) -> Tensor:
    """``G + ε diag(G) + ε 1e-10 mean(diag G) I`` with ``ε = T · eps`` of the Jacobian's dtype.

    Relative to each task's own squared norm, so tasks with small gradients are not swamped (a multiple of the
    identity would be), plus a floor for zero gradients: the Gramian becomes positive definite at the level of
    its own rounding error, and the small QPs on it have unique solutions.
    """
    T = G.shape[-1]
    eps = T * input_eps(input_dtype)
    diagonal = G.diagonal().clamp_min(0)
    return G + torch.diag(eps * diagonal + eps * 1e-10 * diagonal.mean())


def robust_cholesky(K: Tensor, ridge: Tensor | None = None) -> Tensor:
    """Cholesky factor of the (batched) symmetric ``K``; where ``K`` is not numerically positive definite (a
    float32 Gramian's rounding), the factor of ``K + ridge I`` instead (default ridge: ``1e-6 mean(diag K)``).
    Both are computed (one batched call) and the choice is made on the device, so there is no host sync."""
    n = K.shape[-1]
    if ridge is None:
        ridge = 1e-6 * K.diagonal(dim1=-2, dim2=-1).mean(-1).abs()[..., None, None]
    eye = torch.eye(n, dtype=K.dtype, device=K.device)
    factors, info = torch.linalg.cholesky_ex(torch.stack((K, K + ridge * eye)))
    return torch.where((info[0] == 0)[..., None, None], factors[0], factors[1])


# ----------------------------------------------------------------------------------------------- eigen


def eigh_psd(G: Tensor, method: str = "auto", sweeps: int | None = None) -> tuple[Tensor, Tensor]:
    """Eigendecomposition of a symmetric ``(n, n)`` matrix: eigenvalues ascending ``(n,)`` and eigenvectors
    ``(n, n)`` (columns), ``G = V diag(L) Vᵀ``.

    Args:
        method: ``"auto"`` (LAPACK on the CPU, Jacobi elsewhere), ``"lapack"`` or ``"jacobi"``.
        sweeps: Jacobi sweeps (default :func:`default_jacobi_sweeps`).
    """
    if method == "lapack" or (method == "auto" and G.device.type == "cpu"):
        return torch.linalg.eigh(G)
    if method not in ("auto", "jacobi"):
        raise ValueError(f"unknown eigensolver {method!r}; expected 'auto', 'lapack' or 'jacobi'")
    return jacobi_eigh(G, sweeps if sweeps is not None else default_jacobi_sweeps(G.shape[-1]))


def default_jacobi_sweeps(n: int) -> int:
    """Sweeps after which cyclic Jacobi has converged to float64 working precision for ``n x n`` Gramians.

    Cyclic Jacobi converges quadratically once the off-diagonal part is small. Measured on random Gramians (full
    rank and rank-deficient, n <= 64): ``4 + ceil(log2 n)`` sweeps reach ~1e-15 relative error for full rank and
    <= 1e-10 for rank-deficient ones (tests/test_surgery_linalg.py checks it against LAPACK).
    """
    return 4 + (max(n, 2) - 1).bit_length()


_ROUND_ROBIN_CACHE: dict[tuple[int, str], Tensor] = {}


def _round_robin_step(m: int, device: torch.device) -> Tensor:
    """Permutation taking one round of a round-robin tournament on ``m`` (even) players to the next.

    Players sit in slots: slot 0 is fixed, slots ``1..m-1`` rotate by one each round (the circle method), and the
    pairs of a round are slots ``(s, m-1-s)``. Laying slot ``s < m/2`` at position ``2s`` and slot ``m-1-s`` at
    position ``2s+1`` makes every pair adjacent, ``(2k, 2k+1)``; the map from one round's layout to the next is then
    the same for every round, and ``m - 1`` rounds (a sweep) meet every pair once and return to the start.
    Built from ``arange`` on the device (a host-to-device copy would synchronise).
    """
    key = (m, str(device))
    perm = _ROUND_ROBIN_CACHE.get(key)
    if perm is None:
        positions = torch.arange(m, device=device)
        half = m // 2
        # slot held by each position
        slot = torch.where(positions % 2 == 0, positions // 2, m - 1 - (positions - 1) // 2)
        # the player in slot s moves to slot s-1 in the next round, i.e. slot s of the next round holds the
        # player of slot s+1 of this one (slot 0 fixed, wrap from m-1 to 1)
        source_slot = torch.where(slot == 0, slot, torch.where(slot == m - 1, torch.ones_like(slot), slot + 1))
        source_position = torch.where(source_slot < half, 2 * source_slot, 2 * (m - 1 - source_slot) + 1)
        perm = source_position
        _ROUND_ROBIN_CACHE[key] = perm
    return perm


def jacobi_eigh(G: Tensor, sweeps: int) -> tuple[Tensor, Tensor]:
    """Cyclic (round-robin, parallel) Jacobi eigendecomposition with a fixed number of sweeps.

    Each round applies ``n/2`` disjoint plane rotations at once, each chosen to zero one off-diagonal pair
    (``tan 2θ = 2 a_pq / (a_qq - a_pp)``, ``|θ| <= π/4``), as one orthogonal matrix ``Q`` (rotations then the next
    round's reordering): ``A <- Qᵀ A Q``, ``V <- V Q``. Odd ``n`` is padded with a decoupled zero row and column,
    which no rotation touches. Returns eigenvalues ascending and the matching eigenvectors.
    """
    n = G.shape[-1]
    if n == 1:
        return G.reshape(1), torch.ones_like(G)
    m = n + n % 2
    A = torch.nn.functional.pad(G, (0, m - n, 0, m - n)) if m != n else G.clone()
    V = torch.eye(m, dtype=G.dtype, device=G.device)
    perm = _round_robin_step(m, G.device)
    half = m // 2
    for _ in range(sweeps):
        for _ in range(m - 1):
            diag = A.diagonal()
            a_pp, a_qq = diag[0::2], diag[1::2]
            a_pq = A.diagonal(offset=1)[0::2]
            diff = a_qq - a_pp
            theta = 0.5 * torch.atan2(2.0 * a_pq * torch.where(diff < 0, -1.0, 1.0), diff.abs())
            c, s = torch.cos(theta), torch.sin(theta)
            blocks = torch.stack((c, s, -s, c), dim=-1).view(half, 2, 2)  # [[c, s], [-s, c]] per pair
            # block-diagonal R[(k,a), (l,b)] = δ_kl blocks[k, a, b]
            R = torch.diag_embed(blocks.permute(1, 2, 0)).permute(2, 0, 3, 1).reshape(m, m)
            Q = R[:, perm]
            A = Q.T @ A @ Q
            V = V @ Q
        A = 0.5 * (A + A.T)  # rounding slowly breaks the symmetry the angle formula relies on
    eigenvalues, order = torch.sort(A.diagonal()[:n])
    return eigenvalues, V[:n][:, :n].index_select(1, order)


def pinv_apply(G: Tensor, rhs: Tensor, rcond: float, refinements: int = 2) -> Tensor:
    """``pinv(G) @ rhs`` for symmetric PSD ``G`` ``(n, n)`` and ``rhs`` ``(n,)``, by iterated Tikhonov
    regularisation: ``x_0 = 0``, ``x_{k+1} = x_k + (G² + δ I)⁻¹ G (rhs - G x_k)`` with ``δ = (rcond · trace G)²``,
    ``1 + refinements`` steps on one Cholesky factorisation (no eigendecomposition, no host sync).

    Each eigen-direction ``λ`` gets ``(1 - (δ / (λ² + δ))^(1 + refinements)) / λ`` instead of ``1 / λ``: exact (to
    ~1e-16) for ``λ >> rcond · trace G``, and close to 0 for ``λ << rcond · trace G``, like the cut-off of
    ``torch.linalg.pinv`` but smooth. The cost of smoothness: a numerically-zero eigenvalue ``λ₀`` (a
    rank-deficient ``G``) still contributes ``~3 λ₀ / δ``, about 1e-4 of the solution for float64 round-off with
    ``rcond = 3e-7`` (tests/test_surgery_linalg.py). ``rcond`` must stay above ~1e-7 in float64 (the condition
    number of ``G² + δ I`` is at most ``rcond⁻²``).
    """
    n = G.shape[-1]
    delta = (rcond * G.diagonal().sum().clamp_min(torch.finfo(G.dtype).tiny)) ** 2
    L = robust_cholesky(G @ G + delta * torch.eye(n, dtype=G.dtype, device=G.device))
    x = torch.zeros_like(rhs)
    for _ in range(1 + refinements):
        x = x + cholesky_solve(L, (G @ (rhs - G @ x)).unsqueeze(-1)).squeeze(-1)
    return x


def pinv_rcond(input_dtype: torch.dtype, n: int, solve_dtype: torch.dtype = torch.float64) -> float:
    """Relative cut-off for :func:`pinv_apply`: ``n · eps`` of the dtype the Gramian came from (as
    ``torch.linalg.pinv``; ~1e-6 for float32 Jacobians), floored at what the regularised solve can resolve
    (3e-7 in float64, 1e-3 in float32)."""
    floor = 3e-7 if solve_dtype == torch.float64 else 1e-3
    return max(n * input_eps(input_dtype), floor)


# ---------------------------------------------------------------------------------------- interior point


def cholesky_solve(L: Tensor, rhs: Tensor) -> Tensor:
    """Solve ``L Lᵀ x = rhs`` (batched ``(..., n, k)``) with two triangular solves (no host sync)."""
    y = torch.linalg.solve_triangular(L, rhs, upper=False)
    return torch.linalg.solve_triangular(L.mT, y, upper=True)


def _max_step(v: Tensor, dv: Tensor) -> Tensor:
    """Largest ``a <= 1`` with ``v + a dv >= 0`` (per batch row)."""
    ratio = torch.where(dv < 0, -v / torch.where(dv < 0, dv, -torch.ones_like(dv)), torch.inf)
    return ratio.amin(dim=-1).clamp(max=1.0)


def _max_primal_dual_step(y: Tensor, dy: Tensor, z: Tensor, dz: Tensor) -> Tensor:
    """Largest ``a <= 1`` keeping both ``y + a dy`` and ``z + a dz`` non-negative."""
    return _max_step(torch.cat((y, z), dim=-1), torch.cat((dy, dz), dim=-1))


def _newton_direction(L: Tensor, y: Tensor, z: Tensor, r_dual: Tensor, r_primal: Tensor, r_comp: Tensor,
                      simplex: bool) -> tuple[Tensor, Tensor, Tensor]:
    """Newton step of the interior-point KKT system, ``K = L Lᵀ = ∇²f + diag(z / y)``:
    ``K dx - 1 dν = -r_dual + r_comp / y``, ``1ᵀdx = -r_primal``, ``dz = (r_comp - z dx) / y``."""
    rhs = -r_dual + r_comp / y
    if simplex:
        solution = cholesky_solve(L, torch.stack((rhs, torch.ones_like(rhs)), dim=-1))
        p, q = solution[..., 0], solution[..., 1]
        dnu = (-r_primal - p.sum(-1)) / q.sum(-1)
        dx = p + dnu.unsqueeze(-1) * q
    else:
        dx = cholesky_solve(L, rhs.unsqueeze(-1)).squeeze(-1)
        dnu = torch.zeros_like(r_primal)
    return dx, (r_comp - z * dx) / y, dnu


def interior_point(
    model: Callable[[Tensor], tuple[Tensor, Tensor]],
    lower: Tensor,
    x0: Tensor,
    *,
    simplex: bool,
    iters: int,
    tol: float,
) -> Tensor:
    """Batched primal-dual interior-point method for ``min f(x)  s.t.  x >= lower  [and  sum(x) = 1]``.

    Mehrotra predictor-corrector on the KKT system ``∇f(x) - z - ν1 = 0``, ``(x - lower) ⊙ z = μ``,
    ``1ᵀx = 1``, with a fixed number of iterations; rows whose residuals and gap are all below ``tol`` stop
    moving (on the CPU the loop ends once all rows have stopped: :func:`all_converged`). Meant for convex QPs
    on a regularised Gramian (MGDA, UPGrad): 25 iterations reach 1e-13 on every case of the tests. (Without a
    line search the Mehrotra step can stall on non-quadratic ``f``: CAGrad solves its primal, whose only
    nonlinearity is one ball constraint, with its own interior-point loop.)

    Args:
        model: ``x (B, n) -> (∇f(x) (B, n), ∇²f(x) (B, n, n) or (n, n))``.
        lower: ``(B, n)`` lower bounds.
        x0: ``(B, n)`` strictly feasible start (``x0 > lower``, and ``sum(x0) = 1`` with ``simplex``).
        simplex: add the constraint ``sum(x) = 1``.
        iters: iterations (each: one Cholesky factorisation and two solves).
        tol: absolute tolerance on the dual residual, the primal residual and the mean complementarity.

    Returns:
        ``(B, n)`` the solution (``x0`` for rows that became non-finite, which only a broken ``f`` can cause).
    """
    x = x0.clone()
    z = torch.ones_like(x)
    nu = torch.zeros_like(x[..., 0])
    ridge = None
    for _ in range(iters):
        grad, hess = model(x)
        if ridge is None:  # the fallback ridge of the factorisation, from the first Hessian
            ridge = 1e-6 * hess.diagonal(dim1=-2, dim2=-1).mean(-1).abs()[..., None, None] + 1e-12
        y = x - lower
        r_dual = grad - z - (nu.unsqueeze(-1) if simplex else 0.0)
        r_primal = x.sum(-1) - 1.0 if simplex else torch.zeros_like(nu)
        mu = (y * z).mean(-1)
        L = robust_cholesky(hess + torch.diag_embed(z / y), ridge)
        # predictor (affine scaling), then Mehrotra's centring and second-order correction
        dx, dz, _ = _newton_direction(L, y, z, r_dual, r_primal, -y * z, simplex)
        step = _max_primal_dual_step(y, dx, z, dz).unsqueeze(-1)
        mu_affine = ((y + step * dx) * (z + step * dz)).mean(-1)
        sigma = (mu_affine / mu).clamp(0.0, 1.0) ** 3
        dx, dz, dnu = _newton_direction(L, y, z, r_dual, r_primal, (sigma * mu).unsqueeze(-1) - y * z - dx * dz,
                                        simplex)
        step = (0.99 * _max_primal_dual_step(y, dx, z, dz)).clamp(max=1.0)
        done = (mu <= tol) & (r_dual.abs().amax(-1) <= tol) & (r_primal.abs() <= tol)
        if all_converged(done):  # every row would stay where it is from here on
            break
        step = torch.where(done, 0.0, step)
        x = x + step.unsqueeze(-1) * dx
        z = z + step.unsqueeze(-1) * dz
        nu = nu + step * dnu
    return torch.where(torch.isfinite(x).all(-1, keepdim=True), x, x0)


def quadratic(H: Tensor, linear: Tensor | None = None) -> Callable[[Tensor], tuple[Tensor, Tensor]]:
    """The model ``x -> (H x + linear, H)`` of ``½ xᵀHx + linearᵀx`` for :func:`interior_point`."""

    def model(x: Tensor) -> tuple[Tensor, Tensor]:
        grad = x @ H.mT if H.dim() == 2 else (H @ x.unsqueeze(-1)).squeeze(-1)
        return (grad if linear is None else grad + linear), H

    return model
