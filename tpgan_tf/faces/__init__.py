"""Face geometry shared by every model: landmarks, alignment (numpy/OpenCV and its TF twin),
part windows and mirroring, image ops, face detection. One implementation of each."""
