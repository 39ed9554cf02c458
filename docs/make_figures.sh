#!/bin/sh
# Regenerates the README figures in docs/ with the documented fastopt commands.
# Run from anywhere after `pip install -e .`; MNIST is found as `fastopt train` finds it ($FASTOPT_DATA, ...).
# The landscape figures take seconds; the MNIST comparison about a minute on two idle cores, the MNIST
# softmax-regression study about 6 minutes.
set -e
cd "$(dirname "$0")"

# Optimizer paths on Rosenbrock's valley: contour (+ rosenbrock_loss.png, rosenbrock_surface.png, one panel per
# optimizer in rosenbrock_panels.png) and a GIF.
fastopt landscape --function rosenbrock --optimizers sgd,momentum,nesterov,adagrad,rmsprop,adam --steps 2000 \
    --out rosenbrock.png --surface --panels --animate rosenbrock.gif --frames 30 --dpi 80
# Four minima: where each optimizer ends depends on its path (+ himmelblau_loss.png).
fastopt landscape --function himmelblau --steps 2000 --out himmelblau.png --dpi 80
# One optimizer, learning rates from too small to too large.
fastopt landscape --function rosenbrock --figure lr-sensitivity --optimizers sgd --out lr_sensitivity.png --dpi 80
# Same learning rate with and without momentum on an ill-conditioned quadratic.
fastopt landscape --function quadratic --figure momentum --steps 300 --out momentum_vs_gd.png --dpi 80
# The same optimizers on a convex and a non-convex function.
fastopt landscape --function rastrigin --figure convex --convex quadratic --out convex_vs_nonconvex.png --dpi 80

# Second-order methods against first-order optimizers on Rosenbrock: paths (contour and loss) and f - f* against
# function evaluations (docs/second_order/paths_rosenbrock.png, evaluations_rosenbrock.png). Seconds.
python -c "from fastopt import studies; studies.second_order_study('rosenbrock', out_dir='second_order')"

# Riemannian optimization: Rayleigh quotient on the sphere, top-4 eigenspace on Stiefel, geodesic against
# step-then-project on the 3-D sphere (PNG and GIF). About 15-30 s.
fastopt riemannian --out riemannian

# MNIST: 4 optimizers x 3 epochs. The run folders (checkpoints of several MB) stay out of the repository:
# they are written to a scratch folder, and the figures and report.html are copied into docs/mnist/.
scratch="${TMPDIR:-/tmp}/fastopt-docs-compare"
rm -rf "$scratch"
fastopt compare --dataset mnist --optimizers sgd,momentum,rmsprop,adam --epochs 3 --out "$scratch"
mkdir -p mnist
cp "$scratch"/*.png "$scratch"/report.html mnist/

# Batch size: stochastic (1), mini-batch (64) and full batch on the first 2000 MNIST samples, sgd.
scratch="${TMPDIR:-/tmp}/fastopt-docs-batchsize"
rm -rf "$scratch"
fastopt batchsize --optimizer sgd --lr 0.03 --batch-sizes 1,64,full --limit 2000 --epochs 5 --out "$scratch"
cp "$scratch"/batch_size.png mnist/

# MNIST softmax regression, full batch: L-BFGS, BFGS, CG, Newton-CG and Adam at three rates, 60 s each at most
# (docs/second_order/logreg_time.png, logreg_evals.png, logreg.json, logreg.csv). About 6 minutes.
fastopt logreg --out second_order

# The Hessian of trained MLPs (docs/spectrum/). Sharp against flat: SGD 0.1 at batch 128, 16 and 2048 and Adam,
# 5 epochs each, then each Hessian's top eigenvalue, trace and density on 10,000 training samples; the density of
# the Adam run's Hessian alone (fastopt hessian); the top eigenvalue during full-batch gradient descent against
# 2/lr on 5,000 samples. About 25 minutes on two cores.
scratch="${TMPDIR:-/tmp}/fastopt-docs-sharpness"
rm -rf "$scratch"
fastopt sharpness --study flat --out "$scratch"
mkdir -p spectrum
cp "$scratch"/sharp_vs_flat.png "$scratch"/sharp_vs_flat.json spectrum/
fastopt hessian "$scratch"/runs/3_adam_b128 --samples 10000 --out spectrum
fastopt sharpness --study eos --out spectrum

# Learning-rate schedules (fastopt.optim.schedules): every schedule's curve (seconds), and the default network
# trained under constant, step, cosine, one-cycle and WSD schedules, each per step with the same peak rate
# (docs/schedules/training.png: 5 trainings of 3 epochs, about a minute on two idle cores).
python ../tools/schedule_figures.py curves --out schedules/curves.png
python ../tools/schedule_figures.py training --epochs 3 --out schedules/training.png
# The learning-rate range test (docs/schedules/lrfind.png and lrfind.json).
fastopt lr-find --dataset mnist --optimizer adam --out schedules/lrfind.png

# The challenges of optimization (docs/demos/): every demo of fastopt demo, its figures copied here. About 10
# minutes on two cores (vanishing/exploding gradients and symmetry train small networks; batch-noise the most).
scratch="${TMPDIR:-/tmp}/fastopt-docs-demos"
rm -rf "$scratch"
mkdir -p demos
for demo in vanishing-gradients exploding-gradients saddle-point plateau symmetry convex batch-noise; do
  fastopt demo "$demo" --out "$scratch/$demo"
  cp "$scratch/$demo"/*.png demos/
done
rm demos/convex_vs_nonconvex.png  # the convex demo redraws the landscape figure above; keep that one
