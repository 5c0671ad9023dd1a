# AkkaVoice node image. Build from the repository root:
#   docker build -t akkavoice .
# Configuration is by environment variable (PROTOCOL.md section 6); k8s/ runs it in Kubernetes.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone first, so that the package layer survives code-only changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/AkkaVoice.Protocol/AkkaVoice.Protocol.csproj src/AkkaVoice.Protocol/
COPY src/AkkaVoice.Cluster/AkkaVoice.Cluster.csproj src/AkkaVoice.Cluster/
COPY src/AkkaVoice.Server/AkkaVoice.Server.csproj src/AkkaVoice.Server/
RUN dotnet restore src/AkkaVoice.Server/AkkaVoice.Server.csproj
# The server project copies hocon/*.conf next to the binary.
COPY hocon/ hocon/
# ... and the JavaScript client (served at /client/) next to the browser app.
COPY clients/js/akkavoice.js clients/js/akkavoice.d.ts clients/js/
COPY src/ src/
RUN dotnet publish src/AkkaVoice.Server -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# Listen on every interface inside the container (the node's default is loopback only). Remoting then
# needs the cluster certificate (AKKAVOICE_TLS_CERT, AKKAVOICE_TLS_CERT_PASSWORD_FILE; k8s/ mounts it):
# without it the node refuses to start, unless AKKAVOICE_ALLOW_INSECURE_REMOTING=true (a local trial).
ENV AKKAVOICE_BIND=0.0.0.0
# The node picks its own ports (AKKAVOICE_HTTP_PORT); keep the base image's 8080 default from competing.
ENV ASPNETCORE_HTTP_PORTS=
# http (/ws, probes, metrics, admin), Akka remoting, and the cluster bootstrap contact point
# (only listening when kubernetes.conf is loaded).
EXPOSE 5000 4053 8558
# The base image's non-root "app" user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1654
ENTRYPOINT ["dotnet", "AkkaVoice.Server.dll"]
