"""Extension requests (延期申请): asked by the responsible side, decided by the issuing authority."""
