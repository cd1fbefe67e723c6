"""The original project's Keras README example, run where PyTorch is not installed.

The DCGAN generator of the original README (a ``mConv2D`` with the mouse window between plain
Keras layers): compile, fit one small batch, check the window's usage.
"""

import keras
import numpy as np
from keras import layers

import bionn.keras as mouse

num_class = 10
model = keras.Sequential([
  layers.Dense(4 * 4 * 1024, activation='relu'),
  layers.Reshape((4, 4, 1024)),
  mouse.mConv2D(512, form='2d', input2d_width=32, output2d_width=32, window2d_width=0.5,
                kernel_size=5, strides=2, padding='same'),
  layers.Activation('relu'),
  layers.Dense(num_class, activation='sigmoid')
])  # fmt: skip
rng = np.random.default_rng(0)
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(rng.random((2, 100), "float32"), rng.random((2, 2, 2, num_class), "float32"), verbose=0)

conv = model.layers[2]
assert 0.4 < conv.usage < 0.55, conv.usage
print(f"keras {keras.__version__} on {keras.backend.backend()}: mConv2D usage {conv.usage:.3f}")
