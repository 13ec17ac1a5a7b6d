// Portcullis runs on Linux only (unix sockets, file modes); so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
