#include <oneapi/dnnl/dnnl.h>
int main() { return dnnl_version() == nullptr; }
