@main struct DetourCommand { static func main() {} }
