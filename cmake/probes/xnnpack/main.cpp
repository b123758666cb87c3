#include <xnnpack.h>
int main() { return xnn_initialize(nullptr) != xnn_status_success; }
