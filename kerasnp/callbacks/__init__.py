"""Callbacks: hooks into fit/evaluate/predict. History and the progress bar are callbacks too.

Keras's callbacks, with Keras's names and arguments: EarlyStopping, ModelCheckpoint,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN, BackupAndRestore (whose
resumed runs are bitwise identical to uninterrupted ones), RemoteMonitor (standard-library HTTP)
and TensorBoard (event files written without TensorFlow).
"""
from .backup_and_restore import BackupAndRestore
from .base import Callback, CallbackList, LambdaCallback
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History, ProgbarLogger, format_logs
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .remote_monitor import RemoteMonitor
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN
from . import swap_ema
from .swap_ema import *  # noqa: F401,F403

__all__ = ["BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping",
           "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "TensorBoard", "TerminateOnNaN",
           "format_logs"]
__all__ += swap_ema.__all__
