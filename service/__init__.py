"""OpenReel's service: the HTTP API, the job queue and its workers, and the command line.

    api/         HTTP only: thin routes, protocol models, one table from domain errors to
                 OpenAI's error envelope, the app and its lifespan
    cli/         argument parsing and printing; each command calls the layers below
    domain/      what the service decides, with no HTTP: creating and reading videos, the
                 role policy, accounts, invitations, usage and quotas, audit, reports
    jobs/        the queue (state changes), workers, the janitor, and production: the one
                 path from an accepted request to stored, marked, signed, registered files
    provenance/  marks and signatures of each clip, the outputs registry, verify
    moderation/  checks of prompts, rewrites and frames (term lists, classifiers, endpoint)
    core/        settings, the runtime (database, queue, storage), the database itself

`api` and `cli` sit on top and import the rest; nothing below them imports the API.
`pipeline` and `recaption` never import `service`.
"""
