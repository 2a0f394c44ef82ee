# Build stage: restore and publish the server.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Sfu.sln ./
COPY Sfu.Media/Sfu.Media.csproj Sfu.Media/
COPY Sfu.Signaling/Sfu.Signaling.csproj Sfu.Signaling/
COPY Sfu.Server/Sfu.Server.csproj Sfu.Server/
RUN dotnet restore Sfu.Server/Sfu.Server.csproj
COPY Sfu.Media/ Sfu.Media/
COPY Sfu.Signaling/ Sfu.Signaling/
COPY Sfu.Server/ Sfu.Server/
# The browser SDK is served from the server's wwwroot (Sfu.Server.csproj links it in).
COPY clients/browser/ clients/browser/
RUN dotnet publish Sfu.Server/Sfu.Server.csproj -c Release -o /app --no-restore

# Runtime stage: the ASP.NET Core runtime image already carries OpenSSL 3 (libssl.so.3, libcrypto.so.3), which
# the media plane's DTLS loads; curl is only for the health check.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# The base image's unprivileged "app" user, by number: Kubernetes can check runAsNonRoot only against a numeric user.
USER 1654:1654
# Four media workers, so that the media ports are a known range (50000-50003, UDP and TCP) whatever the host's core
# count; set Sfu__Media__Workers to the container's CPUs and publish Port to Port + Workers - 1 (docs/OPERATIONS.md).
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    Sfu__Logging__Json=true \
    Sfu__Media__Workers=4
EXPOSE 8080/tcp
EXPOSE 50000-50003/udp
EXPOSE 50000-50003/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "Sfu.Server.dll"]
