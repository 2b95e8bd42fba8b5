#include "data/neuronio_generator.h"
