// The classic two-dimensional test functions (Surjanovic & Bingham's Virtual Library of Simulation
// Experiments gives the formulas, domains and minima), with analytic gradients and Hessians.
#pragma once
#include <cmath>

#include "landscape/function.hpp"

namespace fastopt::landscape {

constexpr double kPi = 3.14159265358979323846;

// Writes a symmetric 2x2 Hessian.
inline void set_hessian2(double* h, double xx, double xy, double yy) {
  h[0] = xx;
  h[1] = xy;
  h[2] = xy;
  h[3] = yy;
}

// (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2 = sum_k t_k^2; minimum 0 at (3, 0.5).
struct Beale : TestFunction {
  static constexpr double c[3] = {1.5, 2.25, 2.625};
  Beale() : TestFunction("beale", 2) {
    minima = {{3.0, 0.5}};
    min_value = 0.0;
    domain = {-4.5, 4.5, -4.5, 4.5};
    start = {1.0, 1.5};
  }
  // f = sum t_k^2:  grad = sum 2 t_k grad(t_k);  H = sum 2 (grad(t_k) grad(t_k)^T + t_k H(t_k)).
  double evaluate(const double* p, double* g) const override {
    const double x = p[0], y = p[1];
    double f = 0, gx = 0, gy = 0, yk = 1;  // yk = y^(k-1)
    for (int k = 1; k <= 3; ++k) {
      const double t = c[k - 1] - x + x * yk * y;
      f += t * t;
      gx += 2 * t * (yk * y - 1);
      gy += 2 * t * k * x * yk;
      yk *= y;
    }
    if (g) g[0] = gx, g[1] = gy;
    return f;
  }
  void fill_hessian(const double* p, double* h) const override {
    const double x = p[0], y = p[1];
    double hxx = 0, hxy = 0, hyy = 0, yk = 1, ykm1 = 0;  // y^(k-1), y^(k-2)
    for (int k = 1; k <= 3; ++k) {
      const double t = c[k - 1] - x + x * yk * y, tx = yk * y - 1, ty = k * x * yk;
      hxx += 2 * tx * tx;
      hxy += 2 * (tx * ty + t * k * yk);
      hyy += 2 * (ty * ty + t * k * (k - 1) * x * ykm1);
      ykm1 = yk;
      yk *= y;
    }
    set_hessian2(h, hxx, hxy, hyy);
  }
  int64_t residual_count() const override { return 3; }
  void residuals(const double* p, double* r) const override {
    double yk = p[1];  // y^k
    for (int k = 1; k <= 3; ++k, yk *= p[1]) r[k - 1] = c[k - 1] - p[0] + p[0] * yk;
  }
  // dt_k/dx = y^k - 1, dt_k/dy = k x y^(k-1).
  void jacobian(const double* p, double* jac) const override {
    double ykm1 = 1;  // y^(k-1)
    for (int k = 1; k <= 3; ++k, ykm1 *= p[1]) jac[2 * (k - 1)] = ykm1 * p[1] - 1, jac[2 * (k - 1) + 1] = k * p[0] * ykm1;
  }
};

// (x^2 + y - 11)^2 + (x + y^2 - 7)^2: four global minima of value 0.
struct Himmelblau : TestFunction {
  Himmelblau() : TestFunction("himmelblau", 2) {
    minima = {{3.0, 2.0},
              {-2.8051180869527449, 3.1313125182505730},
              {-3.7793102533777469, -3.2831859912861694},
              {3.5844283403304917, -1.8481265269644036}};
    min_value = 0.0;
    domain = {-5, 5, -5, 5};
    start = {0.0, 0.0};
  }
  double evaluate(const double* p, double* g) const override {
    const double x = p[0], y = p[1], a = x * x + y - 11, b = x + y * y - 7;
    if (g) g[0] = 4 * x * a + 2 * b, g[1] = 2 * a + 4 * y * b;
    return a * a + b * b;
  }
  void fill_hessian(const double* p, double* h) const override {
    const double x = p[0], y = p[1], a = x * x + y - 11, b = x + y * y - 7;
    set_hessian2(h, 4 * a + 8 * x * x + 2, 4 * (x + y), 2 + 4 * b + 8 * y * y);
  }
  int64_t residual_count() const override { return 2; }
  void residuals(const double* p, double* r) const override { r[0] = p[0] * p[0] + p[1] - 11, r[1] = p[0] + p[1] * p[1] - 7; }
  void jacobian(const double* p, double* jac) const override { jac[0] = 2 * p[0], jac[1] = 1, jac[2] = 1, jac[3] = 2 * p[1]; }
};

// -a exp(-b sqrt((x^2+y^2)/2)) - exp((cos cx + cos cy)/2) + a + e with a=20, b=0.2, c=2pi; minimum 0 at 0.
// The first term is a cone at the origin: there the gradient returned is the zero subgradient and the
// Hessian, which diverges like 1/r, is +inf on the diagonal (0 off it).
struct Ackley : TestFunction {
  static constexpr double a = 20, c = 2 * kPi;
  static constexpr double beta = 0.2 * 0.70710678118654752440;  // b / sqrt(2): the cone is -a exp(-beta r)
  Ackley() : TestFunction("ackley", 2) {
    minima = {{0.0, 0.0}};
    min_value = 0.0;
    domain = {-5, 5, -5, 5};
    start = {-4.2, 3.7};
  }
  double evaluate(const double* p, double* g) const override {
    const double x = p[0], y = p[1], r = std::hypot(x, y), cone = a * std::exp(-beta * r);
    const double e = std::exp(0.5 * (std::cos(c * x) + std::cos(c * y)));
    if (g) {
      const double radial = r > 0 ? cone * beta / r : 0.0;
      g[0] = radial * x + 0.5 * c * e * std::sin(c * x);
      g[1] = radial * y + 0.5 * c * e * std::sin(c * y);
    }
    return -cone - e + a + std::exp(1.0);
  }
  void fill_hessian(const double* p, double* h) const override {
    const double x = p[0], y = p[1], r = std::hypot(x, y);
    const double e = std::exp(0.5 * (std::cos(c * x) + std::cos(c * y)));
    const double sx = std::sin(c * x), sy = std::sin(c * y);
    // Periodic part -e:  d2/dx2 = c^2 e (cos cx - sin^2 cx / 2) / 2,  d2/dxdy = -c^2 e sin cx sin cy / 4.
    const double pxx = 0.5 * c * c * e * (std::cos(c * x) - 0.5 * sx * sx);
    const double pyy = 0.5 * c * c * e * (std::cos(c * y) - 0.5 * sy * sy);
    const double pxy = -0.25 * c * c * e * sx * sy;
    if (r == 0) {
      set_hessian2(h, INFINITY, 0.0, INFINITY);
      return;
    }
    // Cone -a exp(-beta r):  H = a beta exp(-beta r) (I/r - x x^T/r^3 - beta x x^T/r^2).
    const double k = a * beta * std::exp(-beta * r), r2 = r * r, r3 = r2 * r;
    set_hessian2(h, k * (1 / r - x * x / r3 - beta * x * x / r2) + pxx, k * (-x * y / r3 - beta * x * y / r2) + pxy,
                 k * (1 / r - y * y / r3 - beta * y * y / r2) + pyy);
  }
};

// (x + 2y - 7)^2 + (2x + y - 5)^2: a convex quadratic, minimum 0 at (1, 3).
struct Booth : TestFunction {
  Booth() : TestFunction("booth", 2) {
    minima = {{1.0, 3.0}};
    min_value = 0.0;
    domain = {-10, 10, -10, 10};
    start = {-8.0, -6.0};
  }
  double evaluate(const double* p, double* g) const override {
    const double a = p[0] + 2 * p[1] - 7, b = 2 * p[0] + p[1] - 5;
    if (g) g[0] = 2 * a + 4 * b, g[1] = 4 * a + 2 * b;
    return a * a + b * b;
  }
  void fill_hessian(const double*, double* h) const override { set_hessian2(h, 10, 8, 10); }
  int64_t residual_count() const override { return 2; }
  void residuals(const double* p, double* r) const override { r[0] = p[0] + 2 * p[1] - 7, r[1] = 2 * p[0] + p[1] - 5; }
  void jacobian(const double*, double* jac) const override { jac[0] = 1, jac[1] = 2, jac[2] = 2, jac[3] = 1; }
};

// Goldstein-Price: A(x,y) B(x,y), A = 1 + (x+y+1)^2 P, B = 30 + (2x-3y)^2 Q with quadratics P, Q;
// minimum 3 at (0, -1), several local minima around it.
struct GoldsteinPrice : TestFunction {
  // 1 + s^2 q (or 30 + s^2 q) for a linear s with gradient (sx, sy) and a quadratic q: value,
  // gradient and Hessian by the product rule.
  struct Factor {
    double v, gx, gy, hxx, hxy, hyy;
    Factor(double base, double s, double sx, double sy, double q, double qx, double qy, double qxx, double qxy,
           double qyy) {
      v = base + s * s * q;
      gx = 2 * s * sx * q + s * s * qx;
      gy = 2 * s * sy * q + s * s * qy;
      hxx = 2 * sx * sx * q + 4 * s * sx * qx + s * s * qxx;
      hxy = 2 * sx * sy * q + 2 * s * (sx * qy + sy * qx) + s * s * qxy;
      hyy = 2 * sy * sy * q + 4 * s * sy * qy + s * s * qyy;
    }
  };
  static Factor first(double x, double y) {
    const double q = 19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y, qx = -14 + 6 * x + 6 * y;
    return Factor(1, x + y + 1, 1, 1, q, qx, qx, 6, 6, 6);
  }
  static Factor second(double x, double y) {
    const double q = 18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y;
    return Factor(30, 2 * x - 3 * y, 2, -3, q, -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y, 24, -36, 54);
  }
  GoldsteinPrice() : TestFunction("goldstein_price", 2) {
    minima = {{0.0, -1.0}};
    min_value = 3.0;
    domain = {-2, 2, -2, 2};
    start = {-1.5, 1.5};
  }
  double evaluate(const double* p, double* g) const override {
    const Factor a = first(p[0], p[1]), b = second(p[0], p[1]);
    if (g) g[0] = a.gx * b.v + a.v * b.gx, g[1] = a.gy * b.v + a.v * b.gy;
    return a.v * b.v;
  }
  void fill_hessian(const double* p, double* h) const override {
    const Factor a = first(p[0], p[1]), b = second(p[0], p[1]);
    set_hessian2(h, a.hxx * b.v + 2 * a.gx * b.gx + a.v * b.hxx,
                 a.hxy * b.v + a.gx * b.gy + a.gy * b.gx + a.v * b.hxy, a.hyy * b.v + 2 * a.gy * b.gy + a.v * b.hyy);
  }
};

// (4 - 2.1x^2 + x^4/3) x^2 + xy + (4y^2 - 4) y^2: six local minima, two global of value -1.0316.
struct SixHumpCamel : TestFunction {
  SixHumpCamel() : TestFunction("six_hump_camel", 2) {
    minima = {{0.089842013100318062, -0.71265640302073963}, {-0.089842013100318062, 0.71265640302073963}};
    min_value = -1.0316284534898774;
    domain = {-3, 3, -2, 2};
    start = {-2.0, -1.5};
  }
  double evaluate(const double* p, double* g) const override {
    const double x = p[0], y = p[1], x2 = x * x, y2 = y * y;
    if (g) g[0] = 8 * x - 8.4 * x2 * x + 2 * x2 * x2 * x + y, g[1] = x - 8 * y + 16 * y2 * y;
    return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (4 * y2 - 4) * y2;
  }
  void fill_hessian(const double* p, double* h) const override {
    const double x2 = p[0] * p[0];
    set_hessian2(h, 8 - 25.2 * x2 + 10 * x2 * x2, 1, -8 + 48 * p[1] * p[1]);
  }
};

// x^2 - y^2: a saddle point at the origin, unbounded below along y (no minima).
struct Saddle : TestFunction {
  Saddle() : TestFunction("saddle", 2) {
    domain = {-2, 2, -2, 2};
    start = {-1.8, 0.05};
  }
  double evaluate(const double* p, double* g) const override {
    if (g) g[0] = 2 * p[0], g[1] = -2 * p[1];
    return p[0] * p[0] - p[1] * p[1];
  }
  void fill_hessian(const double*, double* h) const override { set_hessian2(h, 2, 0, -2); }
};

// x^3 - 3xy^2: the monkey saddle, flat (zero gradient and Hessian) at the origin, unbounded below (no minima).
struct MonkeySaddle : TestFunction {
  MonkeySaddle() : TestFunction("monkey_saddle", 2) {
    domain = {-2, 2, -2, 2};
    start = {1.5, 0.2};
  }
  double evaluate(const double* p, double* g) const override {
    const double x = p[0], y = p[1];
    if (g) g[0] = 3 * (x * x - y * y), g[1] = -6 * x * y;
    return x * x * x - 3 * x * y * y;
  }
  void fill_hessian(const double* p, double* h) const override { set_hessian2(h, 6 * p[0], -6 * p[1], -6 * p[0]); }
};

// x^2 + y^2: the convex bowl, minimum 0 at the origin.
struct Bowl : TestFunction {
  Bowl() : TestFunction("bowl", 2) {
    minima = {{0.0, 0.0}};
    min_value = 0.0;
    domain = {-2, 2, -2, 2};
    start = {-1.5, 1.8};
  }
  double evaluate(const double* p, double* g) const override {
    if (g) g[0] = 2 * p[0], g[1] = 2 * p[1];
    return p[0] * p[0] + p[1] * p[1];
  }
  void fill_hessian(const double*, double* h) const override { set_hessian2(h, 2, 0, 2); }
};

}  // namespace fastopt::landscape
