"""What every part of convatlas shares: errors, atomic file writing, job logs and progress, the device."""
