"""Linear-algebra ops (ops.linalg): values against torch.linalg / NumPy in float64, gradients
against central differences, error messages."""
import numpy as np
import pytest

from kerasnp import ops
from tests._ops_check import check_grad

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


def _t(a):
    return torch.tensor(a, dtype=torch.float64)


def _sym(x):
    """A well-conditioned symmetric positive-definite matrix built from `x` with ops."""
    n = x.shape[-1]
    return ops.add(ops.matmul(x, ops.swapaxes(x, -1, -2)), n * np.eye(n))


A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
BATCH = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
B = rng.standard_normal((3, 2))


def test_namespace_mirrors_keras():
    assert set(ops.linalg.__all__) == {
        "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
        "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"}
    assert ops.linalg.solve is ops.solve and ops.linalg.norm is ops.norm
    assert ops.linalg.jvp is ops.jvp


def test_values_against_torch():
    np.testing.assert_allclose(ops.inv(BATCH), torch.linalg.inv(_t(BATCH)))
    np.testing.assert_allclose(ops.det(BATCH), torch.linalg.det(_t(BATCH)))
    sign, logabs = ops.slogdet(-A)
    ts, tl = torch.linalg.slogdet(_t(-A))
    np.testing.assert_allclose([sign, logabs], [ts, tl])
    assert np.isnan(ops.logdet(np.diag([-1.0, 2.0])))
    np.testing.assert_allclose(ops.logdet(A @ A.T), torch.logdet(_t(A @ A.T)))
    np.testing.assert_allclose(ops.solve(A, B), torch.linalg.solve(_t(A), _t(B)))
    np.testing.assert_allclose(ops.solve(A, B[:, 0]), np.linalg.solve(A, B[:, 0]))
    for lower in (True, False):
        want = torch.linalg.solve_triangular(_t(A), _t(B), upper=not lower)
        np.testing.assert_allclose(ops.solve_triangular(A, B, lower=lower), want)
    spd = A @ A.T + np.eye(3)
    low = np.linalg.cholesky(spd)
    np.testing.assert_allclose(ops.cholesky(spd), torch.linalg.cholesky(_t(spd)))
    np.testing.assert_allclose(ops.cholesky(spd, upper=True), low.T)
    np.testing.assert_allclose(ops.cholesky_inverse(low), torch.cholesky_inverse(_t(low)))
    np.testing.assert_allclose(ops.cholesky_inverse(low.T, upper=True),
                               torch.cholesky_inverse(_t(low.T), upper=True))
    wide = rng.standard_normal((3, 5))
    np.testing.assert_allclose(ops.pinv(wide), torch.linalg.pinv(_t(wide)), atol=1e-12)
    tall, rhs = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(ops.lstsq(tall, rhs), torch.linalg.lstsq(_t(tall), _t(rhs)).solution)
    assert ops.matrix_rank(np.diag([1.0, 1e-3, 0.0])) == 2
    assert ops.matrix_rank(np.diag([1.0, 1e-3, 0.0]), tol=1e-2) == 1


def test_decompositions_against_torch():
    spd = A @ A.T + np.eye(3)
    w, v = ops.eigh(spd)
    tw, tv = torch.linalg.eigh(_t(spd))
    np.testing.assert_allclose(w, tw)
    np.testing.assert_allclose(np.abs(v), np.abs(tv.numpy()))
    for shape, mode in [((5, 3), "reduced"), ((3, 5), "reduced"), ((5, 3), "complete")]:
        x = rng.standard_normal(shape)
        q, r = ops.qr(x, mode=mode)
        tq, tr = torch.linalg.qr(_t(x), mode=mode)
        assert q.shape == tuple(tq.shape) and r.shape == tuple(tr.shape)
        np.testing.assert_allclose(q @ r, x, atol=1e-12)
        np.testing.assert_allclose(np.abs(r), np.abs(tr.numpy()), atol=1e-12)
    x = rng.standard_normal((4, 3))
    u, s, vh = ops.svd(x)
    assert (u.shape, s.shape, vh.shape) == ((4, 4), (3,), (3, 3))
    np.testing.assert_allclose(s, torch.linalg.svdvals(_t(x)))
    np.testing.assert_allclose(ops.svd(x, compute_uv=False), s)
    u, s, vh = ops.svd(x, full_matrices=False)
    np.testing.assert_allclose(u * s @ vh, x, atol=1e-12)
    lu, piv = ops.lu_factor(BATCH)
    tlu, tpiv = torch.linalg.lu_factor(_t(BATCH))
    np.testing.assert_allclose(lu, tlu)
    np.testing.assert_array_equal(piv, tpiv.numpy() - 1)        # LAPACK's 0-based pivots
    assert piv.dtype == np.int32
    m = np.array([[2.0, 1.0], [0.0, 3.0]])
    w, v = ops.eig(m)
    np.testing.assert_allclose(m @ v, v * w, atol=1e-12)
    np.testing.assert_allclose(sorted(w), [2.0, 3.0])


def test_gradients_of_inverses_and_solvers():
    check_grad(ops.inv, BATCH)
    check_grad(ops.det, BATCH)
    check_grad(lambda x: ops.slogdet(x)[1], -A)
    check_grad(lambda x: ops.logdet(_sym(x)), A)
    check_grad(ops.solve, A, B)
    check_grad(ops.solve, A, B[:, 0])
    check_grad(lambda a, b: ops.solve_triangular(a, b, lower=True), A, B)
    check_grad(lambda a, b: ops.solve_triangular(a, b, lower=False), A, B)
    check_grad(lambda x: ops.cholesky_inverse(x), np.tril(A))
    check_grad(lambda x: ops.cholesky_inverse(x, upper=True), np.triu(A))
    check_grad(ops.pinv, rng.standard_normal((3, 5)), rtol=1e-4)
    check_grad(ops.pinv, rng.standard_normal((5, 3)), rtol=1e-4)
    check_grad(ops.lstsq, rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rtol=1e-4)
    check_grad(ops.lstsq, rng.standard_normal((5, 3)), rng.standard_normal(5), rtol=1e-4)


def test_gradients_of_decompositions():
    check_grad(lambda x: ops.cholesky(_sym(x)), A)
    check_grad(lambda x: ops.cholesky(_sym(x), upper=True), A)
    check_grad(lambda x: ops.eigh(_sym(x)), A, rtol=1e-4)
    check_grad(lambda x: ops.qr(x), rng.standard_normal((5, 3)), rtol=1e-4)
    check_grad(lambda x: ops.qr(x), rng.standard_normal((3, 5)), rtol=1e-4)
    check_grad(lambda x: ops.qr(x, mode="complete"), rng.standard_normal((3, 3)), rtol=1e-4)
    check_grad(lambda x: ops.svd(x, full_matrices=False), rng.standard_normal((5, 3)), rtol=1e-4)
    check_grad(lambda x: ops.svd(x, full_matrices=False), rng.standard_normal((3, 4)), rtol=1e-4)
    check_grad(lambda x: ops.svd(x)[1], rng.standard_normal((5, 3)))
    check_grad(lambda x: ops.svd(x, compute_uv=False), rng.standard_normal((3, 4)))
    check_grad(lambda x: ops.lu_factor(x)[0], BATCH, rtol=1e-4)
    m = np.array([[2.0, 1.0, 0.5], [0.1, 3.0, 0.2], [0.4, 0.3, 5.0]])
    check_grad(ops.eig, m, rtol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match=r"inv: `x` must be a square matrix.*\(2, 3\)"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="inv: Singular matrix"):
        ops.inv(np.ones((2, 2)))
    with pytest.raises(ValueError, match="solve: Singular matrix"):
        ops.solve(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="cholesky: the input is not positive definite"):
        ops.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="eig: this matrix has complex eigenvalues"):
        ops.eig(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="qr: mode must be 'reduced' or 'complete'"):
        ops.qr(np.eye(2), mode="r")
    with pytest.raises(ValueError, match=r"solve: `b` must have as many rows"):
        ops.solve(np.eye(2), np.ones((3, 1)))
    with pytest.raises(ValueError, match="lstsq"):
        ops.lstsq(np.ones((3, 2)), np.ones(4))
    from kerasnp.autodiff import GradientTape
    x = np.ones((4, 2)) + np.eye(4, 2)
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(NotImplementedError, match="mode='reduced'"):
            ops.qr(x, mode="complete")


def test_integer_input_gets_floats_and_no_tape_node():
    assert ops.inv(np.array([[2, 0], [0, 4]])).dtype == np.float32
    assert ops.matrix_rank(np.eye(3, dtype=int)).dtype == np.int32


@pytest.mark.filterwarnings("ignore::DeprecationWarning")     # torch.func's own jit use
def test_jvp_against_torch_func():
    x, t = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def f(a):
        return ops.matmul(ops.tanh(a), ops.inv(a + 3 * np.eye(3)))
    out, tan = ops.jvp(f, (x,), (t,))
    want_out, want_tan = torch.func.jvp(
        lambda a: torch.tanh(a) @ torch.linalg.inv(a + 3 * torch.eye(3, dtype=torch.float64)),
        (_t(x),), (_t(t),))
    np.testing.assert_allclose(out, want_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tan, want_tan.numpy(), rtol=1e-10, atol=1e-12)
    y = rng.standard_normal(2)
    out, tan, aux = ops.jvp(lambda a, b: ({"p": a * b, "s": ops.sum(a)}, "aux"),
                            (y, 3.0), (np.ones(2), 1.0), has_aux=True)
    np.testing.assert_allclose(tan["p"], 3.0 + y)                # t_a·b + a·t_b
    np.testing.assert_allclose(tan["s"], 2.0)
    assert aux == "aux"
    with pytest.raises(ValueError, match="jvp: each tangent must have its primal's shape"):
        ops.jvp(ops.square, (np.ones(2),), (np.ones(3),))


def test_multi_output_ops_on_symbolic_tensors():
    import kerasnp
    inp = kerasnp.Input((3, 3))
    q, r = ops.qr(inp)
    model = kerasnp.Model(inp, [q, r, ops.det(inp)])
    got_q, got_r, got_d = model(BATCH)
    np.testing.assert_allclose(got_q @ got_r, BATCH, atol=1e-12)
    np.testing.assert_allclose(got_d, np.linalg.det(BATCH))
