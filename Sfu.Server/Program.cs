using Sfu.Server.Hosting;

await SfuServer.Build(args).RunAsync();
