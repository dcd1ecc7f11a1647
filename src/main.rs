fn main() {
    std::process::exit(vaeser::cli::main());
}
