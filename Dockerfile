# The Observatoire web app. For users who have Docker; the project's own scripts (scripts/run.sh)
# need no Docker. Build context: the repository root.
FROM node:20-bookworm-slim AS assets
WORKDIR /src/wwwroot-assets
COPY wwwroot-assets/ ./
RUN if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; fi

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
COPY --from=assets /src/wwwroot-assets/ ./wwwroot-assets/
RUN dotnet publish src/Observatoire/Observatoire.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY data/ /data/
ENV ASPNETCORE_URLS=http://0.0.0.0:5080
EXPOSE 5080
# Migrate and load the bundled data when the database is empty, then serve.
ENTRYPOINT ["sh", "-c", "dotnet Observatoire.dll load-if-empty --data /data && exec dotnet Observatoire.dll"]
